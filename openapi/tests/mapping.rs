//! One test per mapping rule; every derived subgraph must compose alone.

use openapi::{derive, DeriveError, EntitySetting, ExtensionSetting, In, Settings, UnionRule};

const SHIPMENTS: &str = r##"
openapi: 3.1.0
info: { title: shipments, version: "1" }
paths:
  /shipments:
    get:
      operationId: list_shipments
      parameters:
        - { name: date, in: query, required: true, schema: { type: string, format: date } }
        - { name: limit, in: query, schema: { type: integer, format: int32 } }
        - { name: X-Region, in: header, schema: { type: string } }
      responses:
        "200":
          description: shipments of a day
          content:
            application/json:
              schema: { type: array, items: { $ref: "#/components/schemas/Shipment" } }
    post:
      operationId: createShipment
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: "#/components/schemas/NewShipment" }
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Shipment" }
  /shipments/{id}:
    get:
      operationId: getShipment
      parameters:
        - { name: id, in: path, required: true, schema: { type: string } }
      responses:
        "200":
          description: one
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Shipment" }
  /parcels/{code}:
    get:
      parameters:
        - { name: code, in: path, required: true, schema: { type: string } }
      responses:
        "200":
          description: a parcel
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Parcel" }
components:
  schemas:
    Shipment:
      type: object
      x-meshwork-key: id
      required: [id, status]
      properties:
        id: { type: string }
        orderId: { type: string }
        shippedAt: { type: string, format: date-time }
        weightGrams: { type: integer }
        status: { $ref: "#/components/schemas/Status" }
        note: { type: [string, "null"] }
        labels: { type: object, additionalProperties: { type: string } }
        parcels: { type: array, items: { $ref: "#/components/schemas/Parcel" } }
        carrier:
          type: object
          properties:
            name: { type: string }
        destination:
          oneOf:
            - $ref: "#/components/schemas/Address"
            - $ref: "#/components/schemas/PickupPoint"
          discriminator:
            propertyName: kind
            mapping: { address: "#/components/schemas/Address", pickup: "#/components/schemas/PickupPoint" }
        contact:
          anyOf:
            - { type: object, required: [email], properties: { email: { type: string } } }
            - { type: object, required: [phone], properties: { phone: { type: string } } }
        anything:
          oneOf:
            - { type: object, properties: { a: { type: string } } }
            - { type: object, properties: { b: { type: string } } }
    Status: { type: string, enum: [in-transit, delivered, "2day"] }
    Parcel:
      type: object
      required: [code]
      properties:
        code: { type: string }
        contents: { type: array, items: { $ref: "#/components/schemas/Parcel" } }
    Address:
      allOf:
        - { $ref: "#/components/schemas/Place" }
        - { type: object, properties: { street: { type: string } } }
    PickupPoint:
      type: object
      properties: { kind: { type: string }, locker: { type: string } }
    Place:
      type: object
      required: [kind]
      properties: { kind: { type: string }, city: { type: string } }
    NewShipment:
      type: object
      required: [orderId]
      properties: { orderId: { type: string }, weightGrams: { type: integer, format: int32 } }
"##;

fn derived(settings: &Settings) -> openapi::Derived {
    let d = derive(SHIPMENTS, settings).unwrap_or_else(|e| panic!("derives: {e}"));
    composition::compose(&[composition::Subgraph {
        name: "shipments".into(),
        url: "http://shipments.local/graphql".into(),
        sdl: d.sdl.clone(),
    }])
    .unwrap_or_else(|e| panic!("composes alone: {e}\n{}", d.sdl));
    d
}

#[test]
fn gets_are_query_fields_with_their_parameters() {
    let d = derived(&Settings::default());
    assert!(
        d.sdl
            .contains("listShipments(date: Date!, limit: Int, xRegion: String): [Shipment!]"),
        "{}",
        d.sdl
    );
    assert!(
        d.sdl.contains("getShipment(id: String!): Shipment"),
        "{}",
        d.sdl
    );
    // No operationId: method and path.
    assert!(
        d.sdl.contains("getParcelsByCode(code: String!): Parcel"),
        "{}",
        d.sdl
    );
    let call = &d.plan.calls["Query.listShipments"];
    assert_eq!(call.path, "/shipments");
    assert_eq!(call.arguments[2].parameter, "X-Region");
    assert_eq!(call.arguments[2].location, In::Header);
}

#[test]
fn writes_are_mutations_only_when_the_domain_enables_them() {
    let d = derived(&Settings::default());
    assert!(!d.sdl.contains("type Mutation"));
    assert!(
        d.warnings.iter().any(|w| w.contains("POST /shipments")),
        "{:?}",
        d.warnings
    );
    let d = derived(&Settings {
        rest_mutations: true,
        ..Default::default()
    });
    assert!(
        d.sdl
            .contains("createShipment(body: NewShipmentInput!): Shipment"),
        "{}",
        d.sdl
    );
    assert!(
        d.sdl
            .contains("input NewShipmentInput {\n  orderId: String!\n  weightGrams: Int\n}"),
        "{}",
        d.sdl
    );
    assert_eq!(
        d.plan.calls["Mutation.createShipment"].body.as_deref(),
        Some("body")
    );
}

#[test]
fn dates_nullability_large_integers_and_maps() {
    let d = derived(&Settings::default());
    for line in [
        "  shippedAt: DateTime\n",
        "  weightGrams: Long\n",
        "  note: String\n",
        "  labels: JSON\n",
    ] {
        assert!(d.sdl.contains(line), "{line:?} in {}", d.sdl);
    }
    assert!(d.sdl.contains("scalar Date\n") && d.sdl.contains("scalar Long\n"));
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("`ShipmentLabels`") && w.contains("JSON")),
        "{:?}",
        d.warnings
    );
}

#[test]
fn nested_inline_objects_arrays_and_recursive_references() {
    let d = derived(&Settings::default());
    assert!(d.sdl.contains("  carrier: ShipmentCarrier\n"), "{}", d.sdl);
    assert!(
        d.sdl
            .contains("type ShipmentCarrier @shareable {\n  name: String\n}"),
        "{}",
        d.sdl
    );
    assert!(d.sdl.contains("  parcels: [Parcel!]\n"), "{}", d.sdl);
    assert!(
        d.sdl.contains("  contents: [Parcel!]\n"),
        "recursive: {}",
        d.sdl
    );
}

#[test]
fn one_of_with_a_discriminator_without_one_and_undecidable() {
    let d = derived(&Settings::default());
    assert!(
        d.sdl
            .contains("union ShipmentDestination = Address | PickupPoint"),
        "{}",
        d.sdl
    );
    assert_eq!(
        d.plan.unions["ShipmentDestination"],
        UnionRule::Discriminator {
            property: "kind".into(),
            mapping: [
                ("address".to_string(), "Address".to_string()),
                ("pickup".to_string(), "PickupPoint".to_string())
            ]
            .into(),
        }
    );
    // allOf merged into Address.
    assert!(
        d.sdl.contains(
            "type Address @shareable {\n  city: String\n  kind: String!\n  street: String\n}"
        ),
        "{}",
        d.sdl
    );
    assert!(matches!(
        d.plan.unions["ShipmentContact"],
        UnionRule::RequiredProperties(_)
    ));
    assert!(d.sdl.contains("  anything: JSON\n"), "{}", d.sdl);
    assert!(
        d.warnings.iter().any(|w| w.contains("ShipmentAnything")),
        "{:?}",
        d.warnings
    );
}

#[test]
fn enum_values_that_are_not_names_are_renamed_reversibly() {
    let d = derived(&Settings::default());
    assert!(
        d.sdl
            .contains("enum Status {\n  IN_TRANSIT\n  delivered\n  _2DAY\n}"),
        "{}",
        d.sdl
    );
    assert_eq!(d.plan.enums["Status"]["IN_TRANSIT"], "in-transit");
    assert_eq!(d.plan.enums["Status"]["_2DAY"], "2day");
}

#[test]
fn entities_from_the_document_or_the_registration() {
    let d = derived(&Settings::default());
    assert!(
        d.sdl.contains("type Shipment @key(fields: \"id\")"),
        "{}",
        d.sdl
    );
    let entity = &d.plan.entities["Shipment"];
    assert_eq!(
        (entity.call.path.as_str(), entity.parameter.as_str()),
        ("/shipments/{id}", "id")
    );
    let d = derived(&Settings {
        entities: vec![EntitySetting {
            type_name: "Parcel".into(),
            key: "code".into(),
            get: "getParcelsByCode".into(),
            batch: None,
        }],
        ..Default::default()
    });
    // Declared by the registration, by the field name of an operation
    // without an operationId.
    assert!(
        d.sdl.contains("type Parcel @key(fields: \"code\")"),
        "{}",
        d.sdl
    );
    assert_eq!(d.plan.entities["Parcel"].call.path, "/parcels/{code}");
    let refused = derive(
        SHIPMENTS,
        &Settings {
            entities: vec![EntitySetting {
                type_name: "Parcel".into(),
                key: "weight".into(),
                get: "getShipment".into(),
                batch: None,
            }],
            ..Default::default()
        },
    );
    assert!(
        matches!(refused, Err(DeriveError::Entity { .. })),
        "{refused:?}"
    );
}

#[test]
fn openapi_3_0_nullable_is_read() {
    let doc = r##"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
      "paths": {"/a": {"get": {"operationId": "a", "responses": {"200": {"description": "x",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}}}}},
      "components": {"schemas": {"A": {"type": "object", "required": ["n"],
        "properties": {"n": {"type": "integer", "nullable": true, "minimum": 0, "maximum": 10, "exclusiveMinimum": true}}}}}}"##;
    let d = derive(doc, &Settings::default()).expect("3.0 derives");
    assert!(
        d.sdl.contains("  n: Int\n"),
        "required but nullable: {}",
        d.sdl
    );
}

#[test]
fn broken_documents_are_refused_with_their_reason() {
    assert_eq!(
        derive(r#"{"swagger": "2.0", "info": {}}"#, &Settings::default()),
        Err(DeriveError::Swagger2)
    );
    assert!(matches!(
        derive("openapi: 3.1.0\ninfo: [unclosed", &Settings::default()),
        Err(DeriveError::Unreadable(_))
    ));
    let dangling = SHIPMENTS.replace(
        "#/components/schemas/Parcel\" }\n  /parcels",
        "#/components/schemas/Nope\" }\n  /parcels",
    );
    let dangling = dangling.replace(
        "$ref: \"#/components/schemas/Shipment\" }\n  /parcels",
        "$ref: \"#/components/schemas/Nope\" }\n  /parcels",
    );
    match derive(&dangling, &Settings::default()) {
        Err(DeriveError::DanglingRef(r)) => assert_eq!(r, "#/components/schemas/Nope"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        derive(r#"{"openapi": "2.5"}"#, &Settings::default()),
        Err(DeriveError::Version(_))
    ));
}

const INVOICES: &str = r##"
openapi: 3.1.0
info: { title: invoices, version: "1" }
paths:
  /invoices:
    get:
      operationId: invoicesByIds
      parameters:
        - { name: ids, in: query, required: true, explode: false, schema: { type: array, items: { type: string } } }
        - { name: tag, in: query, schema: { type: array, items: { type: string } } }
      responses:
        "200":
          description: the invoices asked for
          content:
            application/json:
              schema: { type: array, items: { $ref: "#/components/schemas/Invoice" } }
  /invoices/{id}:
    get:
      operationId: invoice
      parameters:
        - { name: id, in: path, required: true, schema: { type: string } }
      responses:
        "200":
          description: one
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Invoice" }
  /customers/{customerId}/invoices:
    get:
      operationId: customerInvoices
      x-meshwork-extends: { type: Customer, key: id, field: invoices }
      parameters:
        - { name: customerId, in: path, required: true, schema: { type: string } }
      responses:
        "200":
          description: a customer's invoices
          content:
            application/json:
              schema: { type: array, items: { $ref: "#/components/schemas/Invoice" } }
  /orders/{orderId}/invoice:
    get:
      operationId: orderInvoice
      parameters:
        - { name: orderId, in: path, required: true, schema: { type: string } }
      responses:
        "200":
          description: an order's invoice
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Invoice" }
components:
  schemas:
    Invoice:
      type: object
      x-meshwork-key: id
      x-meshwork-batch: invoicesByIds
      required: [id]
      properties:
        id: { type: string }
        amount: { type: number }
"##;

fn compose_alone(sdl: &str) {
    composition::compose(&[composition::Subgraph {
        name: "invoices".into(),
        url: "http://invoices.local/graphql".into(),
        sdl: sdl.to_string(),
    }])
    .unwrap_or_else(|e| panic!("composes alone: {e}\n{sdl}"));
}

#[test]
fn other_domains_entities_gain_fields_from_the_document_or_the_registration() {
    let settings = Settings {
        extends: vec![ExtensionSetting {
            type_name: "Order".into(),
            key: "id".into(),
            field: "invoice".into(),
            get: "orderInvoice".into(),
        }],
        ..Default::default()
    };
    let d = derive(INVOICES, &settings).unwrap_or_else(|e| panic!("derives: {e}"));
    compose_alone(&d.sdl);
    assert!(
        d.sdl
            .contains("type Customer @key(fields: \"id\") {\n  id: ID!\n  invoices: [Invoice!]\n}"),
        "{}",
        d.sdl
    );
    assert!(
        d.sdl
            .contains("type Order @key(fields: \"id\") {\n  id: ID!\n  invoice: Invoice\n}"),
        "{}",
        d.sdl
    );
    let customer = &d.plan.extensions["Customer.invoices"];
    assert_eq!(
        (customer.call.path.as_str(), customer.parameter.as_str()),
        ("/customers/{customerId}/invoices", "customerId")
    );
    // The same composes beside the domain that owns the entity.
    composition::compose(&[
        composition::Subgraph {
            name: "invoices".into(),
            url: "http://invoices.local/graphql".into(),
            sdl: d.sdl.clone(),
        },
        composition::Subgraph {
            name: "customers".into(),
            url: "http://customers.local/graphql".into(),
            sdl: "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.3\", import: [\"@key\"])\n\
                  type Query { customer(id: ID!): Customer }\n\
                  type Customer @key(fields: \"id\") { id: ID! name: String }\n\
                  type Order @key(fields: \"id\") { id: ID! total: Float }\n"
                .into(),
        },
    ])
    .unwrap_or_else(|e| panic!("composes with the owner: {e}\n{}", d.sdl));

    // Refused, with the reason: an unknown operation, a type derived here,
    // a field named like the key, two keys for one type.
    for (extension, says) in [
        (
            ("Order", "id", "invoice", "nothing"),
            "no operation `nothing`",
        ),
        (
            ("Invoice", "id", "twin", "invoice"),
            "derived from this document",
        ),
        (("Order", "id", "id", "orderInvoice"), "cannot be the name"),
        (("Customer", "code", "latest", "orderInvoice"), "two keys"),
    ] {
        let (type_name, key, field, get) = extension;
        let refused = derive(
            INVOICES,
            &Settings {
                extends: vec![ExtensionSetting {
                    type_name: type_name.into(),
                    key: key.into(),
                    field: field.into(),
                    get: get.into(),
                }],
                ..Default::default()
            },
        );
        match refused {
            Err(DeriveError::Entity { problem, .. }) => {
                assert!(problem.contains(says), "{problem}")
            }
            other => panic!("{extension:?}: {other:?}"),
        }
    }
}

#[test]
fn a_declared_batch_operation_and_comma_separated_lists() {
    let d = derive(INVOICES, &Settings::default()).unwrap_or_else(|e| panic!("derives: {e}"));
    compose_alone(&d.sdl);
    let batch = d.plan.entities["Invoice"]
        .batch
        .as_ref()
        .expect("the batch operation is planned");
    assert_eq!(
        (
            batch.call.path.as_str(),
            batch.argument.as_str(),
            batch.list
        ),
        ("/invoices", "ids", true)
    );
    // `explode: false` sends one comma-separated value; the default
    // (`explode: true`) repeats the parameter.
    let call = &d.plan.calls["Query.invoicesByIds"];
    let comma: Vec<(&str, bool)> = call
        .arguments
        .iter()
        .map(|a| (a.name.as_str(), a.comma))
        .collect();
    assert_eq!(comma, [("ids", true), ("tag", false)]);
    // A batch operation must answer a list of the entity.
    let refused = derive(
        INVOICES,
        &Settings {
            entities: vec![EntitySetting {
                type_name: "Invoice".into(),
                key: "id".into(),
                get: "invoice".into(),
                batch: Some("orderInvoice".into()),
            }],
            ..Default::default()
        },
    );
    match refused {
        Err(DeriveError::Entity { problem, .. }) => {
            assert!(
                problem.contains("answering a list of `Invoice`"),
                "{problem}"
            )
        }
        other => panic!("{other:?}"),
    }
}
