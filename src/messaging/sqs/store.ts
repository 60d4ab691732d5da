/**
 * How SQS lives in the Store (collections and keys; no SQL here):
 *
 * - `sqs-queues`     `<account>/<region>/<name>` -> QueueRecord (its `id` is random per incarnation)
 * - `sqs-messages`   `<qid>/<seq>` -> StoredMessage (seq sorts by send time: FIFO order)
 * - `sqs-visibility` `<qid>/<visibleAt, 13 digits>/<seq>` -> 1 when received before, else 0;
 *                    a range scan up to now finds the visible messages, the rest are in
 *                    flight (1) or delayed (0)
 * - `sqs-dedup`      `<qid>/[<group>/]<dedupId>` -> {id, seq, until} (FIFO 5-minute window)
 * - `sqs-dedup-expiry` `<qid>/<until>/<dedup key>` -> 0 (sends sweep expired ids from here)
 * - `sqs-move-tasks` `<sourceArn>/<startedAt>/<handle>` -> MoveTask
 */
export const C = {
  queues: 'sqs-queues',
  messages: 'sqs-messages',
  visibility: 'sqs-visibility',
  dedup: 'sqs-dedup',
  dedupExpiry: 'sqs-dedup-expiry',
  moveTasks: 'sqs-move-tasks',
} as const;

export const pad13 = (ms: number): string => String(Math.max(0, Math.floor(ms))).padStart(13, '0');

export const queueKey = (accountId: string, region: string, name: string): string =>
  `${accountId}/${region}/${name}`;

export const msgKey = (qid: string, seq: string): string => `${qid}/${seq}`;

export const visKey = (qid: string, visibleAt: number, seq: string): string =>
  `${qid}/${pad13(visibleAt)}/${seq}`;

/**
 * The visibility keys of queue `qid` from `from` (ms, inclusive; default: all) to before `to`
 * (ms, exclusive; default: the queue's end). Further bounds (`after`) may be added: the Store
 * keeps the tightest lower and upper bound (storage/keys.ts rangeBounds).
 */
export const visRange = (qid: string, from?: number, to?: number): { start: string; end: string } => ({
  start: from === undefined ? `${qid}/` : `${qid}/${pad13(from)}`,
  // '0' follows '/': the first key after every `<qid>/...` key.
  end: to === undefined ? `${qid}0` : `${qid}/${pad13(to)}`,
});
