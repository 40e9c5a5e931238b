/// The event types that record who may read the store over HTTP (`atlas token`, `atlas serve`).
///
/// They belong to no customer tenant: their envelope's tenant is ``AccessEventType/tenant``,
/// which no Entra tenant can be (domain names and GUIDs have no `_`).
package enum AccessEventType {
    /// A bearer token was created (``AccessTokenCreated``).
    package static let tokenCreated = "access.token_created"
    /// A bearer token was revoked (``AccessTokenRevoked``).
    package static let tokenRevoked = "access.token_revoked"
    /// The envelope tenant of every access event.
    package static let tenant = "_atlas"
    /// The payload schema version.
    package static let schema = 1
}
