-- wrk script: POST the benchmark query (bench/fixtures/query.graphql) as JSON.
local file = io.open(os.getenv("MESHWORK_BENCH_BODY"), "r")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = file:read("*a")
file:close()
