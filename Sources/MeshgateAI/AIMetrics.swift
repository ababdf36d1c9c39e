import Metrics

/// The AI gateway's Prometheus metrics, counted where the caller settles or refuses a call.
public struct AIMetrics: Sendable {
    /// `meshgate_ai_tokens_total{team,provider,model,kind}`: tokens consumed, by disjoint kind.
    public static let tokensMetric = "meshgate_ai_tokens_total"
    /// `meshgate_ai_budget_refusals_total{subject_kind,subject,window}`: requests refused at a cap.
    public static let refusalsMetric = "meshgate_ai_budget_refusals_total"
    /// `meshgate_ai_budget_remaining_tokens{subject_kind,subject,window}`: tokens left in the current window.
    public static let remainingMetric = "meshgate_ai_budget_remaining_tokens"
    /// `meshgate_ai_estimated_calls_total{provider}`: calls charged from an estimate (no usage report).
    public static let estimatedMetric = "meshgate_ai_estimated_calls_total"

    private let factory: any MetricsFactory

    /// Creates the metrics on `factory` (the global `MetricsSystem.factory` by default).
    public init(factory: (any MetricsFactory)? = nil) {
        self.factory = factory ?? MetricsSystem.factory
    }

    /// Counts one settled call's tokens. `team` is `""` for unidentified callers.
    public func record(_ usage: TokenUsage, team: String?, provider: String, model: String) {
        for (kind, tokens) in usage.byKind where tokens > 0 {
            Counter(label: Self.tokensMetric,
                    dimensions: [("team", team ?? ""), ("provider", provider), ("model", model), ("kind", kind)],
                    factory: factory).increment(by: tokens)
        }
        if usage.estimated {
            Counter(label: Self.estimatedMetric, dimensions: [("provider", provider)], factory: factory).increment()
        }
    }

    /// Counts a refusal and sets the budget's remaining gauge.
    public func record(_ refusal: BudgetRefusal) {
        let dimensions = Self.dimensions(refusal.charge)
        Counter(label: Self.refusalsMetric, dimensions: dimensions, factory: factory).increment()
        Gauge(label: Self.remainingMetric, dimensions: dimensions, factory: factory).record(refusal.remaining)
    }

    /// Sets the remaining-tokens gauge of every row in `report`-like standings after a reservation.
    public func record(remaining: Int, for charge: BudgetCharge) {
        Gauge(label: Self.remainingMetric, dimensions: Self.dimensions(charge), factory: factory).record(max(0, remaining))
    }

    private static func dimensions(_ charge: BudgetCharge) -> [(String, String)] {
        [("subject_kind", charge.subject.kind), ("subject", charge.subject.name), ("window", charge.window)]
    }
}
