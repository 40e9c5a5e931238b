package import CanonicalJSON

/// `inventory.policy_type_enumerated`: a run finished reading one policy type.
package struct PolicyTypeEnumerated: Sendable, Hashable {
    package var runID: String
    package var selectionHash: String
    package var policyType: String
    /// Whether every item of the type was read. An incomplete type never yields "missing".
    package var complete: Bool
    /// Items observed for the type.
    package var count: Int
    package var errorCode: InventoryErrorCode?

    package init(runID: String, selectionHash: String, policyType: String, complete: Bool, count: Int, errorCode: InventoryErrorCode?) {
        self.runID = runID
        self.selectionHash = selectionHash
        self.policyType = policyType
        self.complete = complete
        self.count = count
        self.errorCode = errorCode
    }

    package var data: JSONValue {
        .object([
            "run_id": .string(runID), "selection_hash": .string(selectionHash), "policy_type": .string(policyType),
            "complete": .bool(complete), "count": .number(Double(count)),
            "error_code": errorCode.map { .string($0.rawValue) } ?? .null,
        ])
    }

    package init(data: JSONValue) throws(InventoryPayloadError) {
        let r = try PayloadReader(data, type: InventoryEventType.policyTypeEnumerated)
        runID = try r.string("run_id")
        selectionHash = try r.string("selection_hash")
        policyType = try r.string("policy_type")
        complete = try r.bool("complete")
        count = try r.int("count")
        errorCode = try r.optionalString("error_code").map { InventoryErrorCode(rawValue: $0) ?? .internalError }
    }
}
