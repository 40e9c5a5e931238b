/// The OpenAPI 3.1 description of the JSON API, served at `/api/v1/openapi.json`. Every
/// ``APIRoute`` has a path here (checked by a test).
enum OpenAPIDocument {
    static let json = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "Atlas",
    "version": "1",
    "description": "Read-only access to an Atlas store: tenants, inventory, runs, missing items, item history, changes between runs, and the event stream. The JSON is the same as the `atlas` command line's `--json` output. Every route but /api/v1/health needs `Authorization: Bearer <token>` (from `atlas token create`). A token scoped to tenants gets 404 for every other tenant. Errors are RFC 9457 problem documents."
  },
  "servers": [{"url": "/"}],
  "security": [{"bearer": []}],
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "parameters": {
      "tenant": {"name": "tenant", "in": "path", "required": true, "schema": {"type": "string"}, "description": "The tenant (any case)."},
      "selection": {"name": "selection", "in": "query", "schema": {"type": "string"}, "description": "The selection as JSON, e.g. {\"policy_types\":[\"compliancePolicies\"]}."},
      "selection_hash": {"name": "selection_hash", "in": "query", "schema": {"type": "string", "pattern": "^[0-9a-f]{8,64}$"}, "description": "The selection's hash, or a unique prefix of 8+ hex digits, from the tenant's runs."}
    },
    "responses": {
      "problem": {"description": "An RFC 9457 problem document.", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    },
    "schemas": {
      "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "detail", "code"],
        "properties": {
          "type": {"type": "string", "description": "urn:atlas:problem:<code>"},
          "title": {"type": "string"},
          "status": {"type": "integer"},
          "detail": {"type": "string"},
          "code": {"type": "string", "enum": ["unauthorized", "tenant-not-found", "not-found", "method-not-allowed", "invalid-parameter", "selection-not-found", "run-not-found", "changes-unavailable", "forbidden", "store-error", "unavailable"]}
        }
      },
      "Item": {"type": "object", "description": "An item as `atlas items --json` prints it.", "properties": {"tenant": {"type": "string"}, "policy_type": {"type": "string"}, "external_id": {"type": "string"}, "display_name": {"type": ["string", "null"]}, "content_sha256": {"type": "string"}, "first_seen_at": {"type": "string"}, "last_seen_at": {"type": "string"}, "last_seen_run_id": {"type": "string"}}},
      "Run": {"type": "object", "description": "A sync run as `atlas runs --json` prints it.", "properties": {"run_id": {"type": "string"}, "status": {"type": "string", "enum": ["success", "partial", "failed", "skipped", "running"]}, "selection_hash": {"type": "string"}, "counts": {"type": "object"}, "error_codes": {"type": "array", "items": {"type": "string"}}}}
    }
  },
  "paths": {
    "/api/v1/health": {
      "get": {"summary": "Liveness (no token needed).", "security": [], "responses": {"200": {"description": "{\"status\":\"ok\"}"}}}
    },
    "/api/v1/openapi.json": {
      "get": {"summary": "This document.", "responses": {"200": {"description": "OpenAPI 3.1"}, "401": {"$ref": "#/components/responses/problem"}}}
    },
    "/api/v1/head": {
      "get": {"summary": "The log's head: {\"position\":N,\"chain\":\"hex\"}.", "responses": {"200": {"description": "The head."}, "401": {"$ref": "#/components/responses/problem"}}}
    },
    "/api/v1/tenants": {
      "get": {"summary": "The tenants the token may see (`atlas tenants --json`).", "responses": {"200": {"description": "An array of tenant rows."}, "401": {"$ref": "#/components/responses/problem"}}}
    },
    "/api/v1/tenants/{tenant}/items": {
      "get": {
        "summary": "One page of a tenant's inventory (`atlas items --limit N --after C --json`): {\"items\":[…],\"next\":CURSOR or null}.",
        "parameters": [
          {"$ref": "#/components/parameters/tenant"},
          {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1000}},
          {"name": "after", "in": "query", "schema": {"type": "string"}, "description": "The `next` of the previous page."},
          {"name": "policy_type", "in": "query", "schema": {"type": "string"}}
        ],
        "responses": {"200": {"description": "A page.", "content": {"application/json": {"schema": {"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}, "next": {"type": ["string", "null"]}}}}}}, "400": {"$ref": "#/components/responses/problem"}, "401": {"$ref": "#/components/responses/problem"}, "404": {"$ref": "#/components/responses/problem"}}
      }
    },
    "/api/v1/tenants/{tenant}/runs": {
      "get": {"summary": "A tenant's runs, newest first (`atlas runs --json`).", "parameters": [{"$ref": "#/components/parameters/tenant"}], "responses": {"200": {"description": "An array of runs.", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Run"}}}}}, "401": {"$ref": "#/components/responses/problem"}, "404": {"$ref": "#/components/responses/problem"}}}
    },
    "/api/v1/tenants/{tenant}/missing": {
      "get": {
        "summary": "What the latest completed run of the tenant + selection did not see (`atlas missing --json`): {\"latest_run\",\"low_confidence\",\"missing\",\"unknown\"}.",
        "parameters": [{"$ref": "#/components/parameters/tenant"}, {"$ref": "#/components/parameters/selection"}, {"$ref": "#/components/parameters/selection_hash"}],
        "responses": {"200": {"description": "The report."}, "400": {"$ref": "#/components/responses/problem"}, "401": {"$ref": "#/components/responses/problem"}, "404": {"$ref": "#/components/responses/problem"}}
      }
    },
    "/api/v1/tenants/{tenant}/items/{policy_type}/{id}/history": {
      "get": {
        "summary": "What each finished run said about one item (`atlas history --json`).",
        "parameters": [{"$ref": "#/components/parameters/tenant"}, {"name": "policy_type", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "description": "The item's external id, percent-encoded."}],
        "responses": {"200": {"description": "The history."}, "400": {"$ref": "#/components/responses/problem"}, "401": {"$ref": "#/components/responses/problem"}, "404": {"$ref": "#/components/responses/problem"}}
      }
    },
    "/api/v1/tenants/{tenant}/changes": {
      "get": {
        "summary": "Added, removed and changed items between two completed runs (`atlas changes --json`).",
        "parameters": [{"$ref": "#/components/parameters/tenant"}, {"name": "selection", "in": "query", "schema": {"type": "string"}, "description": "The selection as JSON or its 64-hex hash."}, {"$ref": "#/components/parameters/selection_hash"}, {"name": "from_run", "in": "query", "schema": {"type": "string"}}, {"name": "to_run", "in": "query", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The changes."}, "400": {"$ref": "#/components/responses/problem"}, "401": {"$ref": "#/components/responses/problem"}, "404": {"$ref": "#/components/responses/problem"}, "409": {"$ref": "#/components/responses/problem"}}
      }
    },
    "/api/v1/events": {
      "get": {
        "summary": "The event stream as Server-Sent Events: `id:` the position, `data:` the `atlas-replay export` line. A `: heartbeat` comment every 15 s.",
        "parameters": [
          {"name": "Last-Event-ID", "in": "header", "schema": {"type": "integer"}, "description": "Resume after this position."},
          {"name": "from", "in": "query", "schema": {"type": "integer"}, "description": "Resume after this position (when there is no Last-Event-ID)."},
          {"name": "tenant", "in": "query", "schema": {"type": "string"}},
          {"name": "type", "in": "query", "schema": {"type": "string"}, "description": "An event type prefix, e.g. inventory.sync_run_ (repeatable)."}
        ],
        "responses": {"200": {"description": "text/event-stream"}, "400": {"$ref": "#/components/responses/problem"}, "401": {"$ref": "#/components/responses/problem"}, "404": {"$ref": "#/components/responses/problem"}}
      }
    }
  }
}
"""#
}
