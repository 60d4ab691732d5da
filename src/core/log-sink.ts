/** Where function logs go (CloudWatch Logs engine). Appends are buffered and never throw. */
export interface LogEventInput {
  timestamp: number;
  message: string;
}

export interface LogStreamRef {
  accountId: string;
  region: string;
  group: string;
  stream: string;
}

export interface LogSink {
  append(ref: LogStreamRef, events: LogEventInput[]): void;
  /** Resolves when everything appended so far is stored. */
  flush(): Promise<void>;
}
