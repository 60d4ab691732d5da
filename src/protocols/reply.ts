/** What a protocol encoder produces: the front door writes it to the socket as is. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
  /**
   * A body written as its chunks come (chunked transfer encoding, each chunk flushed), instead
   * of `body`; an error ends the connection, as the response cannot be answered otherwise then.
   */
  stream?: AsyncIterable<Buffer>;
}
