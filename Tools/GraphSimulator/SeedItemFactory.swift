import AtlasTesting
import CanonicalJSON
import Foundation

/// Builds realistic Graph objects for generated seeds.
enum SeedItemFactory {
    /// One object of `collection`, the `index`-th in its tenant.
    static func item(for collection: SimulatedCollection, tenant: String, index: Int, rng: inout SplitMix64) -> JSONValue {
        let type = collection.odataTypes.isEmpty ? collection.key : collection.odataTypes[index % collection.odataTypes.count]
        let created = date(&rng, from: 1_640_995_200, span: 60 * 86_400 * 6)  // 2022-01-01 + up to ~1 year
        let modified = created + Double(rng.int(0...(400 * 86_400)))
        let label = "\(tenant) \(humanize(collection.key)) \(index + 1)"
        var o: [String: JSONValue] = [
            "id": .string(rng.guid()),
            "@odata.type": .string("#microsoft.graph.\(type)"),
            "description": .string("Generated \(humanize(type)) for \(tenant) (#\(index + 1))"),
            "createdDateTime": .string(iso(created)),
        ]
        switch collection.key {
        case "conditionalAccessPolicy":
            o["displayName"] = .string("CA\(String(format: "%03d", index + 1)) - \(label)")
            o["modifiedDateTime"] = .string(iso(modified))
            o["state"] = .string(rng.pick(["enabled", "disabled", "enabledForReportingButNotEnforced"]))
            o["conditions"] = [
                "clientAppTypes": .array([.string(rng.pick(["all", "browser", "mobileAppsAndDesktopClients"]))]),
                "users": ["includeUsers": ["All"], "excludeUsers": .array([.string(rng.guid())])],
                "applications": ["includeApplications": .array([.string(rng.pick(["All", "Office365"]))])],
                "platforms": .null,
            ]
            o["grantControls"] = [
                "operator": .string(rng.pick(["OR", "AND"])),
                "builtInControls": .array([.string(rng.pick(["mfa", "compliantDevice", "domainJoinedDevice", "block"]))]),
            ]
            o["sessionControls"] = .null
            return .object(o)
        case "roleScopeTag":
            o["displayName"] = .string("Scope \(label)")
            o["isBuiltIn"] = false
            return .object(o)
        default:
            break
        }
        o["lastModifiedDateTime"] = .string(iso(modified))
        o["roleScopeTagIds"] = ["0"]
        if collection.key == "settingsCatalogPolicy" {
            o["name"] = .string(label)
        } else {
            o["displayName"] = .string(label)
        }
        if ["deviceConfiguration", "deviceCompliancePolicy", "appProtectionPolicy", "mobileAppConfiguration"]
            .contains(collection.key)
        {
            o["version"] = .number(Double(rng.int(1...12)))
        }
        for (k, v) in specific(collection: collection.key, type: type, rng: &rng) { o[k] = v }
        return .object(o)
    }

    private static func specific(collection: String, type: String, rng: inout SplitMix64) -> [String: JSONValue] {
        switch type {
        case "windows10GeneralConfiguration":
            return ["passwordRequired": .bool(rng.bool()), "passwordMinimumLength": .number(Double(rng.int(4...14))),
                    "defenderScanType": .string(rng.pick(["userDefined", "quick", "full"])),
                    "screenCaptureBlocked": .bool(rng.bool())]
        case "windows10CustomConfiguration":
            return ["omaSettings": .array([[
                "@odata.type": "#microsoft.graph.omaSettingInteger",
                "displayName": .string("Setting \(rng.int(1...99))"),
                "omaUri": .string("./Device/Vendor/MSFT/Policy/Config/\(rng.pick(["Browser", "Camera", "Privacy"]))/Allow\(rng.int(1...9))"),
                "value": .number(Double(rng.int(0...2))),
            ]])]
        case "iosGeneralDeviceConfiguration":
            return ["passcodeRequired": .bool(rng.bool()), "passcodeMinimumLength": .number(Double(rng.int(4...8))),
                    "cameraBlocked": .bool(rng.bool())]
        case "macOSGeneralDeviceConfiguration":
            return ["passwordRequired": .bool(rng.bool()), "passwordMinimumLength": .number(Double(rng.int(6...12)))]
        case "androidWorkProfileGeneralDeviceConfiguration":
            return ["passwordRequired": .bool(rng.bool()), "workProfileBlockCamera": .bool(rng.bool())]
        case "deviceManagementConfigurationPolicy":
            let (platform, family) = rng.pick([
                ("windows10", "none"), ("windows10", "endpointSecurityAntivirus"),
                ("windows10", "endpointSecurityFirewall"), ("windows10", "baseline"),
                ("macOS", "none"), ("iOS", "none"),
            ])
            return ["platforms": .string(platform),
                    "technologies": .string(family == "none" ? "mdm" : "mdm,microsoftSense"),
                    "settingCount": .number(Double(rng.int(1...40))),
                    "isAssigned": .bool(rng.bool()),
                    "creationSource": .null,
                    "templateReference": [
                        "templateId": .string(family == "none" ? "" : rng.guid() + "_1"),
                        "templateFamily": .string(family),
                        "templateDisplayName": family == "none" ? .null : .string(humanize(family)),
                        "templateDisplayVersion": family == "none" ? .null : "Version 1",
                    ]]
        case "windows10CompliancePolicy", "iosCompliancePolicy", "macOSCompliancePolicy",
             "androidDeviceOwnerCompliancePolicy":
            return ["passwordRequired": .bool(rng.bool()),
                    "osMinimumVersion": .string(rng.pick(["10.0.19045", "10.0.22631", "16.0", "14.0", "13.0"])),
                    "storageRequireEncryption": .bool(rng.bool())]
        case "deviceManagementIntent":
            return ["templateId": .string(rng.guid()), "isAssigned": .bool(rng.bool()), "isMigratingToConfigurationPolicy": false]
        case "groupPolicyConfiguration":
            return ["policyConfigurationIngestionType": .string(rng.pick(["builtIn", "custom", "mixed"]))]
        case "deviceManagementScript", "deviceShellScript":
            let script = type == "deviceShellScript" ? "#!/bin/zsh\necho \(rng.hex(8))\n" : "Write-Output '\(rng.hex(8))'\n"
            return ["scriptContent": .string(Data(script.utf8).base64EncodedString()),
                    "runAsAccount": .string(rng.pick(["system", "user"])),
                    "fileName": .string("script-\(rng.hex(6)).\(type == "deviceShellScript" ? "sh" : "ps1")")]
        case "deviceHealthScript", "deviceComplianceScript":
            var r: [String: JSONValue] = [
                "publisher": .string(rng.pick(["IT", "Security", "Contoso Ops"])),
                "runAsAccount": "system",
                "detectionScriptContent": .string(Data("exit \(rng.int(0...1))\n".utf8).base64EncodedString()),
            ]
            if type == "deviceHealthScript" {
                r["remediationScriptContent"] = .string(Data("Write-Output 'fix \(rng.hex(4))'\n".utf8).base64EncodedString())
            }
            return r
        case "iosManagedAppProtection", "androidManagedAppProtection", "windowsManagedAppProtection":
            return ["pinRequired": .bool(rng.bool()), "periodOfflineBeforeAccessCheck": .string("PT\(rng.int(1...24) * 60)M"),
                    "minimumRequiredOsVersion": .string(rng.pick(["15.0", "16.0", "11.0", "12.0"]))]
        case "iosMobileAppConfiguration", "androidManagedStoreAppConfiguration":
            return ["targetedMobileApps": .array([.string(rng.guid())]),
                    "encodedSettingXml": .string(Data("<dict><key>k\(rng.hex(4))</key></dict>".utf8).base64EncodedString())]
        case "azureADWindowsAutopilotDeploymentProfile":
            return ["language": .string(rng.pick(["os-default", "en-US", "de-DE"])),
                    "deviceNameTemplate": .string("AP-%SERIAL%-\(rng.hex(3))"),
                    "outOfBoxExperienceSettings": ["hidePrivacySettings": .bool(rng.bool()), "hideEULA": true,
                                                   "userType": .string(rng.pick(["standard", "administrator"]))]]
        case "deviceEnrollmentLimitConfiguration":
            return ["priority": .number(Double(rng.int(1...50))), "limit": .number(Double(rng.int(1...15)))]
        case "deviceEnrollmentPlatformRestrictionsConfiguration":
            return ["priority": .number(Double(rng.int(1...50))),
                    "iosRestriction": ["platformBlocked": .bool(rng.bool()), "personalDeviceEnrollmentBlocked": .bool(rng.bool())]]
        case "windowsFeatureUpdateProfile":
            return ["featureUpdateVersion": .string(rng.pick(["Windows 10, version 22H2", "Windows 11, version 23H2", "Windows 11, version 24H2"]))]
        case "windowsQualityUpdateProfile":
            return ["expeditedUpdateSettings": ["qualityUpdateRelease": .string("2024-0\(rng.int(1...9))-08T00:00:00Z"),
                                                "daysUntilForcedReboot": .number(Double(rng.int(0...2)))]]
        case "windowsDriverUpdateProfile":
            return ["approvalType": .string(rng.pick(["manual", "automatic"])), "deploymentDeferralInDays": .number(Double(rng.int(0...30)))]
        case "deviceAndAppManagementAssignmentFilter":
            return ["platform": .string(rng.pick(["windows10AndLater", "iOS", "macOS", "androidForWork"])),
                    "rule": .string("(device.osVersion -startsWith \"10.0.\(rng.int(17000...26000))\")")]
        case "notificationMessageTemplate":
            return ["defaultLocale": "en-us", "brandingOptions": .string(rng.pick(["none", "includeCompanyLogo", "includeContactInformation"]))]
        default:
            return ["settingValue": .string(rng.hex(12))]
        }
    }

    private static func date(_ rng: inout SplitMix64, from base: Double, span: Int) -> Double {
        base + Double(rng.int(0...span))
    }

    /// Graph-style UTC timestamp, e.g. `2023-04-05T10:11:12Z` (civil-from-days, no formatter).
    static func iso(_ seconds: Double) -> String {
        let total = Int(seconds.rounded(.down))
        let days = total >= 0 ? total / 86_400 : (total - 86_399) / 86_400
        let secs = total - days * 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(secs / 3600)):\(two(secs % 3600 / 60)):\(two(secs % 60))Z"
    }

    /// `windowsFeatureUpdateProfile` → `windows feature update profile`.
    private static func humanize(_ camel: String) -> String {
        var out = ""
        for ch in camel {
            if ch.isUppercase, !out.isEmpty { out.append(" ") }
            out.append(contentsOf: ch.lowercased())
        }
        return out
    }
}
