/** What a protocol encoder produces: the front door writes it to the socket as is. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}
