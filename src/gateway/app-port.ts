/**
 * The optional app port (`nimbus up --api-port 3000 [--api NAME|ID[/STAGE]]`): one API served
 * at the root of a port of its own, as `sam local start-api` serves a template's API, so a
 * front end can call `http://127.0.0.1:3000/items` instead of `/_api/{apiId}/...` or a Host
 * header. Requests whose Host names an API (`{apiId}.execute-api.*`) still go to that API, and
 * those whose Host is a custom domain name to its API mappings.
 *
 * Which API: the one `--api` names (its id or its name; HTTP APIs and REST APIs alike), else
 * the only API there is. Which stage: the one `--api` names after a slash, else `$default`,
 * else the API's only stage, else `Prod` (what SAM creates). The choice is made again as APIs
 * are created and deleted (re-read at most once a second), so the port can be opened before
 * the app is deployed. WebSocket handshakes to the port connect to the chosen API when it is a
 * WebSocket API (`ws://127.0.0.1:3000/`), with the stage and path as through a custom domain.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Clock } from '../core/clock.js';
import type { Store } from '../storage/store.js';
import type { RawHandler } from '../server/http-server.js';
import { COLLECTION_API_IDS, type ApiRecord } from './model.js';
import { COLLECTION_REST_API_IDS } from './rest/model.js';
import type { GatewayEngine } from './engine.js';
import type { RestEngine } from './rest/engine.js';
import { jsonMessage } from './response.js';
import { send } from './serve.js';

const RECHECK_MS = 1000;

interface Candidate {
  id: string;
  name: string;
  stages: string[];
}

export interface AppPortDeps {
  store: Store;
  clock: Clock;
  http: GatewayEngine;
  rest: RestEngine;
  /** Serves a request below an API (`/{stage}/path` or a `$default` path), HTTP or REST API. */
  serve: (
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    apiId: string,
    urlBelowApi: string,
  ) => Promise<void>;
  /** For requests whose Host names an API. */
  hostHandler: RawHandler;
  hostPattern: RegExp;
  /** Custom domain names: requests whose Host is one go to its mappings. */
  isDomainHost?: (host: string) => boolean;
  domainHandler?: RawHandler;
  upgrade: {
    /** A handshake to a WebSocket API's stage, with the path below it. */
    connect: (
      req: IncomingMessage,
      socket: Duplex,
      head: Buffer,
      apiId: string,
      via: { stage: string; domainName: string; below: string },
    ) => void;
    /** The main port's upgrade handling (handshakes that name their API by Host). */
    fallback: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  };
}

/** `NAME|ID[/STAGE]` as given to `--api`. */
export function parseApiTarget(text: string | undefined): { api?: string; stage?: string } {
  if (!text) return {};
  const slash = text.indexOf('/');
  if (slash < 0) return { api: text };
  return { api: text.slice(0, slash) || undefined, stage: text.slice(slash + 1) || undefined };
}

/** Picks the API and stage, or says why it cannot (the 404 message). */
export function chooseTarget(
  all: Candidate[],
  wanted: { api?: string; stage?: string },
): { apiId: string; stage: string } | { error: string } {
  const listed = all.map((c) => `${c.name} (${c.id})`).join(', ');
  let api: Candidate | undefined;
  if (wanted.api) {
    const byId = all.filter((c) => c.id === wanted.api);
    const byName = all.filter((c) => c.name === wanted.api);
    const hits = byId.length ? byId : byName;
    if (hits.length === 0)
      return {
        error: `No API has the id or name ${wanted.api}${all.length ? `; there are: ${listed}` : ''}`,
      };
    if (hits.length > 1)
      return {
        error: `${hits.length} APIs are named ${wanted.api} (${hits.map((c) => c.id).join(', ')}): give --api its id`,
      };
    api = hits[0];
  } else {
    if (all.length === 0) return { error: 'No API is deployed yet' };
    if (all.length > 1)
      return { error: `Several APIs are deployed, choose one with --api NAME|ID[/STAGE]: ${listed}` };
    api = all[0];
  }
  let stage = wanted.stage;
  if (stage === undefined) {
    if (api.stages.includes('$default')) stage = '$default';
    else if (api.stages.length === 1) stage = api.stages[0];
    else if (api.stages.includes('Prod')) stage = 'Prod';
    else
      return {
        error: api.stages.length
          ? `API ${api.name} (${api.id}) has several stages, choose one with --api ${api.name}/STAGE: ${api.stages.join(', ')}`
          : `API ${api.name} (${api.id}) has no stage yet`,
      };
  } else if (!api.stages.includes(stage)) {
    return { error: `API ${api.name} (${api.id}) has no stage ${stage}` };
  }
  return { apiId: api.id, stage };
}

/** What the app port's server needs: its request handler and its WebSocket handshake handler. */
export interface AppPort {
  handler: RawHandler;
  /** An HTTP upgrade on the app port: a WebSocket handshake to the chosen API (or by Host). */
  upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/** The app port's handlers (one choice of API and stage, shared by requests and handshakes). */
export function appPort(deps: AppPortDeps, target: string | undefined): AppPort {
  const wanted = parseApiTarget(target);
  let cached: { at: number; choice: ReturnType<typeof chooseTarget> } | undefined;

  const candidates = async (): Promise<Candidate[]> => {
    const out: Candidate[] = [];
    for (const { key } of await deps.store.scan<unknown>(COLLECTION_API_IDS)) {
      const api: ApiRecord | undefined = await deps.http.findApi(key);
      if (api) out.push({ id: key, name: api.name, stages: api.stages.map((s) => s.stageName) });
    }
    for (const { key } of await deps.store.scan<unknown>(COLLECTION_REST_API_IDS)) {
      const found = await deps.rest.findApi(key);
      if (found)
        out.push({ id: key, name: found.api.name, stages: found.api.stages.map((s) => s.stageName) });
    }
    return out;
  };

  const choose = async () => {
    const now = deps.clock.now();
    if (!cached || now - cached.at >= RECHECK_MS || now < cached.at) {
      cached = { at: now, choice: chooseTarget(await candidates(), wanted) };
    }
    return cached.choice;
  };

  const handler: RawHandler = async (req, res, requestId) => {
    const host = req.headers.host;
    if (host && deps.hostPattern.test(host)) return deps.hostHandler(req, res, requestId);
    if (host && deps.domainHandler && deps.isDomainHost?.(host))
      return deps.domainHandler(req, res, requestId);
    const choice = await choose();
    if ('error' in choice) {
      req.resume();
      res.setHeader('apigw-requestid', requestId);
      return send(res, jsonMessage(404, choice.error));
    }
    const url = req.url ?? '/';
    const below = choice.stage === '$default' ? url : `/${encodeURIComponent(choice.stage)}${url}`;
    return deps.serve(req, res, requestId, choice.apiId, below);
  };

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const host = req.headers.host;
    // Handshakes that name their API by Host (or a custom domain) go where they would on the main port.
    if (host && (deps.hostPattern.test(host) || deps.isDomainHost?.(host)))
      return deps.upgrade.fallback(req, socket, head);
    socket.on('error', () => socket.destroy());
    choose().then(
      (choice) => {
        if ('error' in choice) return refuse(socket, 404, choice.error);
        deps.upgrade.connect(req, socket, head, choice.apiId, {
          stage: choice.stage,
          domainName: host ?? '',
          below: req.url ?? '/',
        });
      },
      () => refuse(socket, 500, 'Internal server error'),
    );
  };
  return { handler, upgrade };
}

/** Answers a handshake that cannot be taken, as API Gateway does (a JSON message), and closes. */
function refuse(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Internal Server Error'}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
