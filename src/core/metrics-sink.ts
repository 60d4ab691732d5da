/**
 * Where services record their built-in CloudWatch metrics (AWS/SQS, AWS/SNS, AWS/DynamoDB,
 * AWS/ApiGateway). The metrics engine implements it; recording is in memory, aggregated per
 * minute and written in the background, so it is cheap enough for every request.
 */
export interface MetricDimension {
  Name: string;
  Value: string;
}

export interface MetricsSink {
  record(
    scope: { accountId: string; region: string },
    namespace: string,
    name: string,
    dimensions: readonly MetricDimension[],
    value: number,
    unit?: string,
  ): void;
  /**
   * Optional: what records values of one series, for callers that record it on every request
   * (the same as `record` with these arguments, without looking the series up each time).
   */
  recorder?(
    scope: { accountId: string; region: string },
    namespace: string,
    name: string,
    dimensions: readonly MetricDimension[],
    unit?: string,
  ): (value: number) => void;
}

/**
 * What records values of one series: the sink's own `recorder` when it has one, else `record`
 * with these arguments on each value. Callers keep it per queue, table or topic.
 */
export function seriesRecorder(
  sink: MetricsSink,
  scope: { accountId: string; region: string },
  namespace: string,
  name: string,
  dimensions: readonly MetricDimension[],
  unit?: string,
): (value: number) => void {
  return (
    sink.recorder?.(scope, namespace, name, dimensions, unit) ??
    ((value) => sink.record(scope, namespace, name, dimensions, value, unit))
  );
}
