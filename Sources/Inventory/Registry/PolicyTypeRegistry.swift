/// The policy types this build supports.
package enum PolicyTypeRegistry {
    /// Every supported type, in a stable order.
    package static let all: [PolicyType] = [
        .init(key: "deviceConfiguration", category: .configuration, collectionPath: "/deviceManagement/deviceConfigurations", apiVersion: "beta", nameField: "displayName", platformRule: .fromODataType),
        .init(key: "settingsCatalogPolicy", category: .configuration, collectionPath: "/deviceManagement/configurationPolicies", apiVersion: "beta", nameField: "name", platformRule: .fromPlatformsField),
        .init(key: "groupPolicyConfiguration", category: .configuration, collectionPath: "/deviceManagement/groupPolicyConfigurations", apiVersion: "beta", nameField: "displayName", platformRule: .fixed("windows")),
        .init(key: "deviceCompliancePolicy", category: .compliance, collectionPath: "/deviceManagement/deviceCompliancePolicies", apiVersion: "v1.0", nameField: "displayName", platformRule: .fromODataType),
        .init(key: "deviceComplianceScript", category: .compliance, collectionPath: "/deviceManagement/deviceComplianceScripts", apiVersion: "beta", nameField: "displayName", platformRule: .fixed("windows")),
        .init(key: "endpointSecurityIntent", category: .endpointSecurity, collectionPath: "/deviceManagement/intents", apiVersion: "beta", nameField: "displayName", platformRule: .fixed("windows")),
        .init(key: "deviceManagementScript", category: .scripts, collectionPath: "/deviceManagement/deviceManagementScripts", apiVersion: "beta", nameField: "displayName", platformRule: .fixed("windows")),
        .init(key: "deviceShellScript", category: .scripts, collectionPath: "/deviceManagement/deviceShellScripts", apiVersion: "beta", nameField: "displayName", platformRule: .fixed("macOS")),
        .init(key: "deviceHealthScript", category: .scripts, collectionPath: "/deviceManagement/deviceHealthScripts", apiVersion: "beta", nameField: "displayName", platformRule: .fixed("windows")),
        .init(key: "appProtectionPolicy", category: .apps, collectionPath: "/deviceAppManagement/managedAppPolicies", apiVersion: "v1.0", nameField: "displayName", platformRule: .fromODataType),
        .init(key: "mobileAppConfiguration", category: .apps, collectionPath: "/deviceAppManagement/mobileAppConfigurations", apiVersion: "v1.0", nameField: "displayName", platformRule: .fromODataType),
        .init(key: "windowsAutopilotDeploymentProfile", category: .enrollment, collectionPath: "/deviceManagement/windowsAutopilotDeploymentProfiles", apiVersion: "beta", nameField: "displayName", platformRule: .fixed("windows")),
        .init(key: "deviceEnrollmentConfiguration", category: .enrollment, collectionPath: "/deviceManagement/deviceEnrollmentConfigurations", apiVersion: "v1.0", nameField: "displayName", platformRule: .fromODataType),
        .init(key: "windowsFeatureUpdateProfile", category: .updates, collectionPath: "/deviceManagement/windowsFeatureUpdateProfiles", apiVersion: "beta", nameField: "displayName", platformRule: .fixed("windows")),
        .init(key: "windowsQualityUpdateProfile", category: .updates, collectionPath: "/deviceManagement/windowsQualityUpdateProfiles", apiVersion: "beta", nameField: "displayName", platformRule: .fixed("windows")),
        .init(key: "windowsDriverUpdateProfile", category: .updates, collectionPath: "/deviceManagement/windowsDriverUpdateProfiles", apiVersion: "beta", nameField: "displayName", platformRule: .fixed("windows")),
        .init(key: "conditionalAccessPolicy", category: .conditionalAccess, collectionPath: "/identity/conditionalAccess/policies", apiVersion: "v1.0", nameField: "displayName", platformRule: .none),
        .init(key: "assignmentFilter", category: .foundations, collectionPath: "/deviceManagement/assignmentFilters", apiVersion: "beta", nameField: "displayName", platformRule: .none),
        .init(key: "roleScopeTag", category: .foundations, collectionPath: "/deviceManagement/roleScopeTags", apiVersion: "beta", nameField: "displayName", platformRule: .none),
        .init(key: "notificationMessageTemplate", category: .foundations, collectionPath: "/deviceManagement/notificationMessageTemplates", apiVersion: "v1.0", nameField: "displayName", platformRule: .none),
    ]

    private static let byKey: [String: PolicyType] = Dictionary(uniqueKeysWithValues: all.map { ($0.key, $0) })

    /// The type registered under `key`.
    package static func type(_ key: String) -> PolicyType? { byKey[key] }

    /// The supported non-foundation types of `categories` (all categories when empty).
    package static func types(in categories: Set<PolicyCategory>) -> [PolicyType] {
        all.filter { !$0.isFoundation && (categories.isEmpty || categories.contains($0.category)) }
    }

    /// The foundation types.
    package static var foundations: [PolicyType] { all.filter(\.isFoundation) }
}
