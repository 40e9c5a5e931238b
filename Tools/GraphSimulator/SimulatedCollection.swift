/// A Microsoft Graph collection the simulator knows how to serve and generate.
///
/// This is the simulator's own copy of the collections Atlas syncs; the simulator does not
/// depend on Atlas's registry.
package struct SimulatedCollection: Sendable, Hashable, Codable {
    /// The registry key, e.g. `settingsCatalogPolicy`.
    package var key: String
    /// The collection path without the version, e.g. `/deviceManagement/configurationPolicies`.
    package var path: String
    /// The Graph version, `beta` or `v1.0`.
    package var version: String
    /// Typical `@odata.type` values without the `#microsoft.graph.` prefix.
    package var odataTypes: [String]
    /// Items per page when the client gives no `$top`.
    package var defaultPageSize: Int

    /// Creates a collection description.
    package init(key: String, path: String, version: String, odataTypes: [String], defaultPageSize: Int = 100) {
        self.key = key
        self.path = path
        self.version = version
        self.odataTypes = odataTypes
        self.defaultPageSize = defaultPageSize
    }

    /// The path including the version, e.g. `/beta/deviceManagement/configurationPolicies`;
    /// collections are keyed by it in seeds, faults and mutations.
    package var fullPath: String { "/\(version)\(path)" }

    /// The collections Atlas syncs from Intune and Entra.
    package static let intuneDefaults: [SimulatedCollection] = [
        .init(key: "deviceConfiguration", path: "/deviceManagement/deviceConfigurations", version: "beta",
              odataTypes: ["windows10GeneralConfiguration", "windows10CustomConfiguration", "iosGeneralDeviceConfiguration",
                           "macOSGeneralDeviceConfiguration", "androidWorkProfileGeneralDeviceConfiguration"]),
        .init(key: "settingsCatalogPolicy", path: "/deviceManagement/configurationPolicies", version: "beta",
              odataTypes: ["deviceManagementConfigurationPolicy"], defaultPageSize: 25),
        .init(key: "groupPolicyConfiguration", path: "/deviceManagement/groupPolicyConfigurations", version: "beta",
              odataTypes: ["groupPolicyConfiguration"]),
        .init(key: "deviceCompliancePolicy", path: "/deviceManagement/deviceCompliancePolicies", version: "v1.0",
              odataTypes: ["windows10CompliancePolicy", "iosCompliancePolicy", "macOSCompliancePolicy",
                           "androidDeviceOwnerCompliancePolicy"]),
        .init(key: "endpointSecurityIntent", path: "/deviceManagement/intents", version: "beta",
              odataTypes: ["deviceManagementIntent"]),
        .init(key: "deviceManagementScript", path: "/deviceManagement/deviceManagementScripts", version: "beta",
              odataTypes: ["deviceManagementScript"]),
        .init(key: "deviceShellScript", path: "/deviceManagement/deviceShellScripts", version: "beta",
              odataTypes: ["deviceShellScript"]),
        .init(key: "deviceHealthScript", path: "/deviceManagement/deviceHealthScripts", version: "beta",
              odataTypes: ["deviceHealthScript"]),
        .init(key: "deviceComplianceScript", path: "/deviceManagement/deviceComplianceScripts", version: "beta",
              odataTypes: ["deviceComplianceScript"]),
        .init(key: "appProtectionPolicy", path: "/deviceAppManagement/managedAppPolicies", version: "v1.0",
              odataTypes: ["iosManagedAppProtection", "androidManagedAppProtection", "windowsManagedAppProtection"]),
        .init(key: "mobileAppConfiguration", path: "/deviceAppManagement/mobileAppConfigurations", version: "v1.0",
              odataTypes: ["iosMobileAppConfiguration", "androidManagedStoreAppConfiguration"]),
        .init(key: "windowsAutopilotDeploymentProfile", path: "/deviceManagement/windowsAutopilotDeploymentProfiles",
              version: "beta", odataTypes: ["azureADWindowsAutopilotDeploymentProfile"]),
        .init(key: "deviceEnrollmentConfiguration", path: "/deviceManagement/deviceEnrollmentConfigurations",
              version: "v1.0",
              odataTypes: ["deviceEnrollmentLimitConfiguration", "deviceEnrollmentPlatformRestrictionsConfiguration"]),
        .init(key: "windowsFeatureUpdateProfile", path: "/deviceManagement/windowsFeatureUpdateProfiles", version: "beta",
              odataTypes: ["windowsFeatureUpdateProfile"]),
        .init(key: "windowsQualityUpdateProfile", path: "/deviceManagement/windowsQualityUpdateProfiles", version: "beta",
              odataTypes: ["windowsQualityUpdateProfile"]),
        .init(key: "windowsDriverUpdateProfile", path: "/deviceManagement/windowsDriverUpdateProfiles", version: "beta",
              odataTypes: ["windowsDriverUpdateProfile"]),
        .init(key: "conditionalAccessPolicy", path: "/identity/conditionalAccess/policies", version: "v1.0",
              odataTypes: ["conditionalAccessPolicy"]),
        .init(key: "assignmentFilter", path: "/deviceManagement/assignmentFilters", version: "beta",
              odataTypes: ["deviceAndAppManagementAssignmentFilter"]),
        .init(key: "roleScopeTag", path: "/deviceManagement/roleScopeTags", version: "beta",
              odataTypes: ["roleScopeTag"]),
        .init(key: "notificationMessageTemplate", path: "/deviceManagement/notificationMessageTemplates", version: "v1.0",
              odataTypes: ["notificationMessageTemplate"]),
    ]

    /// The default collection with registry key `key`, if any.
    package static func intuneDefault(key: String) -> SimulatedCollection? {
        intuneDefaults.first { $0.key == key }
    }
}
