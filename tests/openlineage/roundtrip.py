"""OpenLineage's own Python client (openlineage-python, PyPI) against Meshwork.

1. Emits a run (START, then COMPLETE with the schema, dataQualityMetrics,
   dataQualityAssertions and outputStatistics facets) through the client's
   HTTP transport to Meshwork's /api/v1/lineage, as a pipeline would.
2. Reads Meshwork's export of the domain and rebuilds every event with the
   client's typed classes (their validators check the run id is a UUID, the
   event time a date-time, the URIs), then compares the client's
   serialisation with Meshwork's JSON.

Usage: roundtrip.py BASE_URL DOMAIN NAMESPACE DATASET RUN_ID
Prints one JSON object: what was sent and what the export held.
"""

import json
import sys
import urllib.request
from datetime import datetime, timezone

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.generated import (
    data_quality_assertions_dataset as dqa,
    data_quality_metrics_input_dataset as dqm,
    output_statistics_output_dataset as stats,
    schema_dataset,
)
from openlineage.client.serde import Serde
from openlineage.client.transport.http import HttpConfig, HttpTransport

base, domain, namespace, dataset, run_id = sys.argv[1:6]

client = OpenLineageClient(transport=HttpTransport(HttpConfig(url=base, endpoint="api/v1/lineage")))
job = Job(namespace="airflow", name="orders.daily_load")
now = datetime.now(timezone.utc).isoformat()
source = InputDataset(
    namespace="postgres://shop:5432",
    name="shop.public.order_lines",
    inputFacets={
        "dataQualityMetrics": dqm.DataQualityMetricsInputDatasetFacet(
            rowCount=7,
            bytes=2048,
            columnMetrics={"total": dqm.ColumnMetrics(nullCount=0, distinctCount=7, min=1.5, max=99.0)},
        )
    },
)
product = OutputDataset(
    namespace=namespace,
    name=dataset,
    facets={
        "schema": schema_dataset.SchemaDatasetFacet(
            fields=[
                schema_dataset.SchemaDatasetFacetFields(name="id", type="VARCHAR"),
                schema_dataset.SchemaDatasetFacetFields(name="total", type="DECIMAL"),
            ]
        ),
        "dataQualityAssertions": dqa.DataQualityAssertionsDatasetFacet(
            assertions=[
                dqa.Assertion(assertion="not_null", success=True, column="total"),
                dqa.Assertion(assertion="unique", success=False, column="id"),
            ]
        ),
    },
    outputFacets={"outputStatistics": stats.OutputStatisticsOutputDatasetFacet(rowCount=5, size=4096)},
)
for state in (RunState.START, RunState.COMPLETE):
    client.emit(RunEvent(eventType=state, eventTime=now, run=Run(runId=run_id), job=job, inputs=[source], outputs=[product]))
client.close() if hasattr(client, "close") else None

with urllib.request.urlopen(f"{base}/api/v1/lineage?domain={domain}") as response:
    exported = json.load(response)

checked = []
for event in exported:
    rebuilt = RunEvent(
        eventType=RunState(event["eventType"]),
        eventTime=event["eventTime"],
        run=Run(runId=event["run"]["runId"]),
        job=Job(namespace=event["job"]["namespace"], name=event["job"]["name"]),
        inputs=[InputDataset(namespace=d["namespace"], name=d["name"]) for d in event.get("inputs", [])],
        outputs=[OutputDataset(namespace=d["namespace"], name=d["name"]) for d in event.get("outputs", [])],
        producer=event["producer"],
    )
    theirs = Serde.to_dict(rebuilt)
    theirs["run"] = {"runId": theirs["run"]["runId"]}
    theirs["job"] = {"namespace": theirs["job"]["namespace"], "name": theirs["job"]["name"]}
    ours = {k: v for k, v in event.items() if k != "run" and k != "job"}
    ours["run"] = {"runId": event["run"]["runId"]}
    ours["job"] = {"namespace": event["job"]["namespace"], "name": event["job"]["name"]}
    for key in ("inputs", "outputs"):
        ours[key] = [{"namespace": d["namespace"], "name": d["name"]} for d in event.get(key, [])]
        theirs[key] = [{"namespace": d["namespace"], "name": d["name"]} for d in theirs.get(key, [])]
    theirs.setdefault("inputs", [])
    theirs.setdefault("outputs", [])
    if theirs != ours:
        print(json.dumps({"mismatch": {"meshwork": ours, "openlineage-python": theirs}}))
        sys.exit(1)
    checked.append({"job": f'{event["job"]["namespace"]}/{event["job"]["name"]}', "eventType": event["eventType"]})

print(json.dumps({"sent": 2, "exported": checked}))
