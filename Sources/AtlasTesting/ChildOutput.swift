package import Foundation

/// What a finished child process printed, and how it ended.
package struct ChildOutput: Sendable {
    package var status: Int32
    package var stdout: Data
    package var stderr: Data

    /// Waits for `process` (started with pipes as its standard output and error) and reads both
    /// pipes to their end. The blocking reads and wait run on Dispatch threads, never on the
    /// cooperative pool every test in a test process shares (a test blocking it for a child's
    /// whole run would stall the others' tasks); stderr drains beside stdout, so a child filling
    /// one pipe never waits on the other.
    package static func collect(_ process: Process) async -> ChildOutput {
        await withCheckedContinuation { done in
            DispatchQueue.global().async {
                let group = DispatchGroup()
                nonisolated(unsafe) var err = Data()
                DispatchQueue.global().async(group: group) {
                    err = (process.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile()
                }
                let out = (process.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile()
                group.wait()
                process.waitUntilExit()
                done.resume(returning: ChildOutput(status: process.terminationStatus, stdout: out, stderr: err))
            }
        }
    }
}
