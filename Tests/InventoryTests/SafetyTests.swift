import CanonicalJSON
import Inventory
import Testing

@Suite struct SafetyTests {
    @Test(arguments: [
        "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl",
        "token request failed: client_secret=SuperSecret123&grant_type=client_credentials",
        "{\"client_secret\":\"SuperSecret123\",\"x\":1}",
        "https://blob.example/x?sv=2020&sig=SuperSecret123%3D&se=2030",
        "callback?code=SuperSecret123&state=1",
        "login failed password=SuperSecret123",
        "header was bearer SuperSecret123",
        "refresh_token: SuperSecret123",
    ])
    func redactsSecrets(text: String) {
        let out = Redactor().redact(text)
        #expect(!out.contains("SuperSecret123"), "\(out)")
        #expect(!out.contains("eyJzdWIiOiIxMjM0In0"), "\(out)")
        #expect(out.contains(Redactor.placeholder))
    }

    @Test func redactsRegisteredLiteralSecretsAndKeepsOrdinaryText() {
        let r = Redactor(secrets: ["opaque-token-value-42"])
        #expect(r.redact("got opaque-token-value-42 back") == "got [REDACTED] back")
        // Ordinary error text survives: codes and words are not secrets.
        let text = "Graph answered 429 TooManyRequests; error code: TooManyRequests"
        #expect(Redactor().redact(text) == text)
    }

    /// Any 8-byte-or-longer piece of a registered secret is redacted wherever it appears: at the
    /// start, the end, in the middle, twice, next to another piece; shorter pieces are not.
    @Test func redactsEveryFragmentOfASecret() {
        let secret = "Zq8~vN3.pR5_tY7-wK9xB2mL4cF6hJ0gD1sA3eU5iO7uT9yW"
        let r = Redactor(secrets: [secret])
        let bytes = Array(secret.utf8)
        for start in 0..<bytes.count {
            for end in stride(from: start + 8, through: bytes.count, by: 3) {
                let piece = String(decoding: bytes[start..<end], as: UTF8.self)
                let out = r.redact("before \(piece) after \(piece)")
                #expect(out == "before [REDACTED] after [REDACTED]", "\(piece) → \(out)")
            }
        }
        // Two pieces glued together are one redacted run; text around them is kept.
        #expect(r.redact("x" + String(secret.prefix(10)) + String(secret.suffix(9)) + "y") == "x[REDACTED]y")
        // Seven bytes are not a fragment; ordinary text is untouched.
        #expect(r.redact("id " + String(secret.prefix(7)) + " ok") == "id " + String(secret.prefix(7)) + " ok")
        #expect(r.redact("Graph answered 401 Unauthorized") == "Graph answered 401 Unauthorized")
    }

    /// Redaction sees the whole text before it is bounded: a secret straddling the bound is
    /// not left half visible.
    @Test func redactsBeforeTruncating() {
        let secret = "fragment-secret-0123456789abcdefghijklmnopqrstuvwx"
        let text = String(repeating: "t", count: 260) + secret + " tail"
        let out = Redactor(maxBytes: 280, secrets: [secret]).redact(text)
        for i in 0...(secret.utf8.count - 8) {
            #expect(!out.contains(String(Array(secret)[i..<(i + 8)])), "\(out)")
        }
    }

    @Test func boundsLength() {
        let long = String(repeating: "é", count: 5000)
        let out = Redactor(maxBytes: 100).redact(long)
        #expect(out.utf8.count <= 100 + "…[truncated]".utf8.count)
        #expect(out.hasSuffix("…[truncated]"))
    }

    @Test func metaWhitelistKeepsOnlyKnownKeysWithTheirTypes() throws {
        let item = try JSONParser().parse(#"""
            {"id":"1","displayName":"n","@odata.type":"#microsoft.graph.windows10GeneralConfiguration","@odata.etag":"W/1",
             "version":3,"roleScopeTagIds":["0","7"],"templateReference":{"templateFamily":"baseline"},"platforms":"windows10",
             "technologies":"mdm","createdDateTime":"2024-01-01T00:00:00Z","lastModifiedDateTime":"2024-02-01T00:00:00Z",
             "passwordRequired":true,"secretValue":"s3cr3t","unknownKey":{"nested":1}}
            """#)
        let r = MetaWhitelist.extract(from: item.objectValue!, nameField: "displayName")
        #expect(Set(r.meta.keys) == ["odata_type", "etag", "version", "scope_tag_ids", "template_family", "platforms",
                                     "technologies", "created_at", "modified_at"])
        #expect(r.meta["scope_tag_ids"] == ["0", "7"])
        #expect(r.meta["version"] == 3)
        #expect(r.droppedKeys == 3)
    }

    @Test func metaWhitelistDropsWrongTypes() throws {
        let item = try JSONParser().parse(#"{"id":"1","roleScopeTagIds":[1,2],"version":{"a":1},"createdDateTime":5,"platforms":null}"#)
        let r = MetaWhitelist.extract(from: item.objectValue!, nameField: "displayName")
        #expect(r.meta.isEmpty)
        #expect(r.droppedKeys == 4)
    }

    @Test func observationFromGraphObject() throws {
        let type = PolicyTypeRegistry.type("settingsCatalogPolicy")!
        let item = try JSONParser().parse(#"{"id":"abc","name":"Firewall","platforms":"windows10","settings":[1,2],"templateReference":{"templateFamily":"endpointSecurityFirewall"}}"#)
        let o = try ItemObserved(graphObject: item, type: type, runID: "01a22006-6fe4-719c-b246-67a37e00de67", selectionHash: String(repeating: "a", count: 64))
        #expect(o.externalID == "abc")
        #expect(o.displayName == "Firewall")
        #expect(o.platform == "windows")
        #expect(o.category == "configuration")
        #expect(o.meta["template_family"] == "endpointSecurityFirewall")
        #expect(o.droppedMetaKeys == 1)
        // The hash is over the canonical form: member order does not change it.
        let reordered = try JSONParser().parse(#"{"templateReference":{"templateFamily":"endpointSecurityFirewall"},"settings":[1,2],"platforms":"windows10","name":"Firewall","id":"abc"}"#)
        let o2 = try ItemObserved(graphObject: reordered, type: type, runID: o.runID, selectionHash: o.selectionHash)
        #expect(o.contentSHA256 == o2.contentSHA256)
        #expect(o.contentSHA256 == SHA256Hex.of(#"{"id":"abc","name":"Firewall","platforms":"windows10","settings":[1,2],"templateReference":{"templateFamily":"endpointSecurityFirewall"}}"#))
    }

    @Test(arguments: [#"{"displayName":"no id"}"#, #"{"id":5}"#, #"{"id":""}"#, #"[1]"#, #"{"id":"a\u0000b"}"#])
    func observationRejectsItemsWithoutUsableID(json: String) throws {
        let type = PolicyTypeRegistry.type("deviceConfiguration")!
        let item = try JSONParser().parse(json)
        #expect(throws: ItemObserved.Rejection.self) {
            try ItemObserved(graphObject: item, type: type, runID: "r", selectionHash: "h")
        }
    }

    @Test func longDisplayNamesAreTruncated() throws {
        let type = PolicyTypeRegistry.type("deviceConfiguration")!
        let name = String(repeating: "ü", count: 10_000)
        let o = try ItemObserved(graphObject: .object(["id": "1", "displayName": .string(name)]), type: type, runID: "r", selectionHash: "h")
        #expect((o.displayName?.utf8.count ?? 0) <= ItemObserved.Limits.displayNameBytes)
        #expect(o.displayName?.hasPrefix("üü") == true)
    }

    @Test(arguments: [
        ("#microsoft.graph.iosCompliancePolicy", "ios"), ("#microsoft.graph.macOSGeneralDeviceConfiguration", "macOS"),
        ("#microsoft.graph.androidWorkProfileGeneralDeviceConfiguration", "android"),
        ("#microsoft.graph.windows10CustomConfiguration", "windows"),
    ])
    func platformFromODataType(odata: String, platform: String) {
        let type = PolicyTypeRegistry.type("deviceConfiguration")!
        #expect(type.platform(of: .object(["@odata.type": .string(odata)])) == platform)
    }
}
