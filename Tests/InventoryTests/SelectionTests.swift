import CanonicalJSON
import Foundation
import Inventory
import Testing

@Suite struct SelectionTests {
    @Test func hashIgnoresOrderOfKeysAndArrays() throws {
        let a = try SelectionParser.parse(#"{"policy_types":["settingsCatalogPolicy","deviceConfiguration"],"categories":["compliance"],"include_foundations":true}"#)
        let b = try SelectionParser.parse(#"{"include_foundations":true,"categories":["compliance","compliance"],"policy_types":[" deviceConfiguration","settingsCatalogPolicy","deviceConfiguration"]}"#)
        #expect(a.selection == b.selection)
        #expect(a.selection.hash == b.selection.hash)
        #expect(a.selection.canonicalText == #"{"categories":["compliance"],"include_dependencies":false,"include_foundations":true,"policy_types":["deviceConfiguration","settingsCatalogPolicy"]}"#)
    }

    /// Published vectors (docs/selection-hash.md): canonical text and SHA-256 computed independently.
    @Test(arguments: [
        (#"{}"#, #"{"categories":[],"include_dependencies":false,"include_foundations":false,"policy_types":[]}"#),
        (#"{"policy_types":["deviceConfiguration"]}"#, #"{"categories":[],"include_dependencies":false,"include_foundations":false,"policy_types":["deviceConfiguration"]}"#),
        (#"{"categories":["configuration","compliance"],"include_dependencies":true}"#, #"{"categories":["compliance","configuration"],"include_dependencies":true,"include_foundations":false,"policy_types":[]}"#),
    ])
    func canonicalForms(input: String, canonical: String) throws {
        let s = try SelectionParser.parse(input).selection
        #expect(s.canonicalText == canonical)
        #expect(s.hash == SHA256Hex.of(canonical))
    }

    @Test func knownHashVector() throws {
        let s = try SelectionParser.parse("{}").selection
        // Computed with Python's hashlib over the canonical text (docs/selection-hash.md).
        #expect(s.hash == "0c2c54ab3d40edfd08826f0802bea122f32d048c334d0e7eaf72030f17618a36")
    }

    @Test func unsupportedValuesAreDroppedAndReported() throws {
        let r = try SelectionParser.parse(#"{"policy_types":["deviceConfiguration","madeUpType"],"categories":["apps","nonsense"]}"#)
        #expect(r.selection.policyTypes == ["deviceConfiguration"])
        #expect(r.selection.categories == [.apps])
        #expect(r.droppedPolicyTypes == ["madeUpType"])
        #expect(r.droppedCategories == ["nonsense"])
    }

    @Test(arguments: [
        (#"{"policy_type":["deviceConfiguration"]}"#, "unknown key \"policy_type\""),
        (#"{"policy_types":"deviceConfiguration"}"#, "\"policy_types\" must be an array"),
        (#"{"policy_types":[1]}"#, "\"policy_types\"[0] must be a string"),
        (#"{"include_foundations":"yes"}"#, "\"include_foundations\" must be true or false"),
        (#"[]"#, "must be a JSON object"),
        (#"{"policy_types":["typo"]}"#, "none of the selection's policy_types is supported"),
        (#"{"categories":["typo"]}"#, "none of the selection's categories is known"),
        (#"{"policy_types": ["#, "not valid JSON"),
    ])
    func badSelectionsNameTheProblem(input: String, message: String) {
        do {
            _ = try SelectionParser.parse(input)
            Issue.record("expected an error for \(input)")
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func resolvedTypes() throws {
        let explicit = try SelectionParser.parse(#"{"policy_types":["roleScopeTag","deviceConfiguration"]}"#).selection
        #expect(explicit.resolvedTypes.map(\.key) == ["deviceConfiguration", "roleScopeTag"])
        let byCategory = try SelectionParser.parse(#"{"categories":["updates"]}"#).selection
        #expect(byCategory.resolvedTypes.map(\.key) == ["windowsFeatureUpdateProfile", "windowsQualityUpdateProfile", "windowsDriverUpdateProfile"])
        let everything = try SelectionParser.parse("{}").selection
        #expect(everything.resolvedTypes.count == PolicyTypeRegistry.all.count - 3)
        #expect(!everything.resolvedTypes.contains { $0.isFoundation })
        let withFoundations = try SelectionParser.parse(#"{"categories":["apps"],"include_foundations":true}"#).selection
        #expect(withFoundations.resolvedTypes.map(\.key) == ["appProtectionPolicy", "mobileAppConfiguration", "assignmentFilter", "roleScopeTag", "notificationMessageTemplate"])
    }

    @Test func registryCoversTheRequiredTypes() {
        let required = ["deviceConfiguration", "settingsCatalogPolicy", "groupPolicyConfiguration", "deviceCompliancePolicy",
                        "endpointSecurityIntent", "deviceManagementScript", "deviceShellScript", "deviceHealthScript",
                        "deviceComplianceScript", "appProtectionPolicy", "mobileAppConfiguration", "windowsAutopilotDeploymentProfile",
                        "deviceEnrollmentConfiguration", "windowsFeatureUpdateProfile", "windowsQualityUpdateProfile",
                        "windowsDriverUpdateProfile", "conditionalAccessPolicy", "assignmentFilter", "roleScopeTag",
                        "notificationMessageTemplate"]
        for key in required { #expect(PolicyTypeRegistry.type(key) != nil, "\(key)") }
        #expect(Set(PolicyTypeRegistry.all.map(\.category)) == Set(PolicyCategory.allCases))
        #expect(PolicyTypeRegistry.type("settingsCatalogPolicy")?.versionedPath == "/beta/deviceManagement/configurationPolicies")
        #expect(PolicyTypeRegistry.type("conditionalAccessPolicy")?.versionedPath == "/v1.0/identity/conditionalAccess/policies")
    }
}

@Suite struct PublishedSelectionVectorTests {
    /// Every row of the table in docs/selection-hash.md holds for this build.
    @Test func docsVectorsHold() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/selection-hash.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        var rows = 0
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 3 else { continue }
            func unquote(_ s: String) -> String { String(s.dropFirst().dropLast()) }
            let s = try SelectionParser.parse(unquote(cells[0])).selection
            #expect(s.canonicalText == unquote(cells[1]))
            #expect(s.hash == unquote(cells[2]))
            rows += 1
        }
        #expect(rows >= 4)
    }
}
