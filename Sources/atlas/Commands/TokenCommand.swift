import ArgumentParser
import AtlasServer
import CanonicalJSON
import CommandSupport
import EventLog
import Inventory
import Sync

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create, list and revoke the access tokens of `atlas serve` (recorded as events; only their SHA-256 is stored).",
        subcommands: [TokenCreateCommand.self, TokenListCommand.self, TokenRevokeCommand.self])

    /// A token name: 1-64 of A-Z a-z 0-9 . _ -
    static func validateName(_ name: String) throws {
        guard !name.isEmpty, name.utf8.count <= 64,
              name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alnum.contains($0) || "._-".unicodeScalars.contains($0)) })
        else { throw ValidationError("token name \"\(name.prefix(80))\" must be 1-64 characters of A-Z, a-z, 0-9, '.', '_', '-'") }
    }
}

private enum CharacterSet {
    static let alnum = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".unicodeScalars)
}

struct TokenCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a bearer token and print it once (it cannot be shown again).",
        discussion: "Prints the token on stdout; keep it secret. Exit 2 when a token of that name is active.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var logging: LoggingOptions
    @Option(help: "The token's name (shown in request logs and `atlas token list`).") var name: String
    @Option(name: .customLong("tenant"), help: "Limit the token to this tenant (repeatable; default: every tenant).",
            transform: TenantArgument.canonical) var tenants: [String] = []
    @Option(help: "Days until the token expires (1-3650; default: never).") var expires: Int?

    func validate() throws {
        try TokenCommand.validateName(name)
        if let expires, !(1...3650).contains(expires) { throw ValidationError("--expires must be 1-3650 days, not \(expires)") }
    }

    func run() async throws {
        let s = try store.open(stateTables: SyncRunner.stateTables)
        let token = BearerToken.generate()
        let now = Timestamp.now()
        let expiresAt = expires.map { Timestamp(millisecondsSinceEpoch: now.millisecondsSinceEpoch + Int64($0) * 86_400_000) }
        let event = AccessTokenEvents.created(AccessTokenCreated(
            name: name, sha256: BearerToken.sha256(token), tenants: Array(Set(tenants)).sorted(), expiresAt: expiresAt))
        do {
            try await s.append([event], precondition: AccessTokenEvents.requireNameFree(name, now: now))
        } catch let e as AccessTokenError {
            throw CommandFailure.usage(e.message)
        }
        print(token)
        Output.note("token \(name) created\(tenants.isEmpty ? " for every tenant" : " for \(Set(tenants).sorted().joined(separator: ", "))")"
                    + (expiresAt.map { "; expires \($0)" } ?? "; never expires") + ". It is shown only now.")
    }
}

struct TokenListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the tokens (never the tokens themselves): name, tenants, state, dates.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var logging: LoggingOptions
    @OptionGroup var output: FormatOptions

    func run() async throws {
        let s = try store.openForReading(accessTokens: true)
        let tokens = try InventoryQueries(store: s).accessTokens()
        let now = Timestamp.now()
        output.format.render(rows: tokens.map { $0.json(at: now) }, columns: ["name", "tenants", "state", "created_at", "expires_at", "revoked_at"]) {
            Output.table(["NAME", "TENANTS", "STATE", "CREATED", "EXPIRES", "REVOKED"], tokens.map {
                [$0.name, $0.tenants.isEmpty ? "*" : $0.tenants.joined(separator: ","), $0.state(at: now).rawValue, $0.createdAt.description,
                 $0.expiresAt?.description ?? "never", $0.revokedAt?.description ?? "-"]
            })
        }
    }
}

struct TokenRevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke the named token: requests with it get 401 at once (console sessions end too).",
        discussion: "Exit 2 when no token has that name or it is already revoked.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var logging: LoggingOptions
    @Argument(help: "The token's name.") var name: String

    func validate() throws { try TokenCommand.validateName(name) }

    func run() async throws {
        let s = try store.open(stateTables: SyncRunner.stateTables)
        let tokenName = name
        do {
            let token = try s.read { r in try AccessTokenEvents.revocable(tokenName, in: r) }
            let event = AccessTokenEvents.revoked(AccessTokenRevoked(name: tokenName, sha256: token.sha256))
            let sha = token.sha256
            try await s.append([event]) { w in
                let current = try AccessTokenEvents.revocable(tokenName, in: w)
                guard current.sha256 == sha else {
                    throw AccessTokenError(.unknownName, "the token named \(tokenName) was replaced meanwhile; run the command again")
                }
            }
        } catch let e as AccessTokenError {
            throw CommandFailure.usage(e.message)
        }
        Output.note("token \(name) revoked")
    }
}
