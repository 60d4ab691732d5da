/** SQS data shapes shared by the engine, its persistence and the wire adapter. */

/** A message attribute as the wire carries it; BinaryValue is base64. */
export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

/** Who is asking: the engine scopes queues by account and region. */
export interface Scope {
  accountId: string;
  region: string;
  /** Base URL for queue URLs (`http://127.0.0.1:4566`); the engine's default when absent. */
  endpoint?: string;
}

export interface QueueRecord {
  /** Random per incarnation: a deleted and re-created queue is a new queue. */
  id: string;
  name: string;
  accountId: string;
  region: string;
  fifo: boolean;
  /** Settable attributes, as AWS renders them (strings). */
  attributes: Record<string, string>;
  tags: Record<string, string>;
  createdAt: number;
  modifiedAt: number;
  purgedAt?: number;
}

export interface StoredMessage {
  id: string;
  seq: string;
  body: string;
  md5: string;
  attrs?: Record<string, MessageAttributeValue>;
  md5Attrs?: string;
  sys?: Record<string, MessageAttributeValue>;
  md5Sys?: string;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  /** The token of the latest receipt handle. */
  token?: string;
  groupId?: string;
  dedupId?: string;
  senderId: string;
  /** Set when the message was moved to a dead-letter queue: the queue it came from. */
  deadLetterSourceArn?: string;
}

export interface SendInput {
  body: string;
  messageAttributes?: Record<string, MessageAttributeValue>;
  messageSystemAttributes?: Record<string, MessageAttributeValue>;
  messageGroupId?: string;
  messageDeduplicationId?: string;
  delaySeconds?: number;
}

export interface SendResult {
  MessageId: string;
  MD5OfMessageBody: string;
  MD5OfMessageAttributes?: string;
  MD5OfMessageSystemAttributes?: string;
  SequenceNumber?: string;
}

export interface ReceiveInput {
  maxNumberOfMessages?: number;
  visibilityTimeout?: number;
  waitTimeSeconds?: number;
  /** System attribute names to return (`All` for all). */
  attributeNames?: string[];
  /** Message attribute names to return (`All`, `.*`, `prefix.*`). */
  messageAttributeNames?: string[];
  signal?: AbortSignal;
}

export interface ReceivedMessage {
  MessageId: string;
  ReceiptHandle: string;
  MD5OfBody: string;
  Body: string;
  Attributes?: Record<string, string>;
  MD5OfMessageAttributes?: string;
  MessageAttributes?: Record<string, MessageAttributeValue>;
}

export interface MoveTask {
  taskHandle: string;
  sourceArn: string;
  destinationArn?: string;
  maxPerSecond?: number;
  status: 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED';
  moved: number;
  toMove: number;
  startedAt: number;
  failureReason?: string;
}
