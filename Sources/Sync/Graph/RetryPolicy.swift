package import Foundation

/// How Graph requests are retried after 429, 503, 504 and connection failures.
///
/// A `Retry-After` header (seconds, decimals allowed, or an HTTP-date) is honoured, capped at
/// ``maxWait``; without one the wait is exponential backoff with full jitter: a random duration
/// in `[0, min(maxWait, initialBackoff · 2^retry)]`. One request gets at most ``maxAttempts``
/// attempts; one policy type spends at most ``budget`` waiting, over all its pages.
package struct RetryPolicy: Sendable, Hashable {
    /// Attempts per request, the first included.
    package var maxAttempts: Int
    /// The backoff ceiling of the first retry.
    package var initialBackoff: Duration
    /// The longest single wait; longer `Retry-After` values are cut to it.
    package var maxWait: Duration
    /// The longest total wait of one policy type.
    package var budget: Duration

    /// A policy; the defaults are 8 attempts, 1 s initial backoff, 60 s longest wait, 300 s per type.
    package init(maxAttempts: Int = 8, initialBackoff: Duration = .seconds(1), maxWait: Duration = .seconds(60),
                budget: Duration = .seconds(300)) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = max(.zero, initialBackoff)
        self.maxWait = max(.zero, maxWait)
        self.budget = max(.zero, budget)
    }

    /// The wait before retry number `retry` (0 for the first retry): the `Retry-After` value
    /// when there is a usable one, else jittered backoff; never more than ``maxWait``.
    package func wait(retry: Int, retryAfter: String?, now: Date = Date()) -> Duration {
        .seconds(waitSeconds(retry: retry, retryAfter: retryAfter, now: now))
    }

    /// ``wait(retry:retryAfter:now:)`` in seconds.
    package func waitSeconds(retry: Int, retryAfter: String?, now: Date = Date()) -> Double {
        let cap = maxWait.inSeconds
        if let header = retryAfter, let seconds = Self.retryAfterSeconds(header, now: now) {
            return min(seconds, cap)
        }
        let ceiling = min(cap, initialBackoff.inSeconds * pow(2, Double(min(max(retry, 0), 62))))
        return ceiling > 0 ? Double.random(in: 0...ceiling) : 0
    }

    /// The delay a `Retry-After` value asks for, in seconds: delta-seconds (`"120"`, and the
    /// decimals Graph sends, `"2.128"`) or an IMF-fixdate (`"Sun, 06 Nov 1994 08:49:37 GMT"`,
    /// 0 when past); `nil` when unreadable.
    package static func retryAfterSeconds(_ value: String, now: Date = Date()) -> Double? {
        let text = value.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return nil }
        if text.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 46 }) {
            guard text.utf8.filter({ $0 == 46 }).count <= 1, text.utf8.first != 46, text.utf8.last != 46,
                  let seconds = Double(text), seconds.isFinite
            else { return nil }
            return seconds
        }
        guard let date = httpDate(text) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }

    /// Parses an IMF-fixdate (RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func httpDate(_ text: String) -> Date? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 6, parts[0].hasSuffix(","), parts[5] == "GMT" || parts[5] == "UTC" else { return nil }
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        guard let day = Int(parts[1]), (1...31).contains(day),
              let monthIndex = months.firstIndex(of: parts[2].lowercased()),
              let year = Int(parts[3]), (1900...9999).contains(year)
        else { return nil }
        let time = parts[4].split(separator: ":")
        guard time.count == 3, let h = Int(time[0]), let m = Int(time[1]), let s = Int(time[2]),
              (0...23).contains(h), (0...59).contains(m), (0...60).contains(s)
        else { return nil }
        // Days from civil (Howard Hinnant's algorithm), proleptic Gregorian, UTC.
        let month = monthIndex + 1
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Date(timeIntervalSince1970: Double(days * 86_400 + h * 3600 + m * 60 + s))
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var inSeconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
