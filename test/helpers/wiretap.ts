/**
 * A wiretap on the loopback: a TCP proxy (node:net) that forwards every connection to a target and records every
 * byte both ways, for tests that must show what crosses the wire (test/e2e/wiretap.test.ts). The target can be set
 * after the proxy listens, so that a daemon can be told the proxy's URL before it starts.
 */
import { createConnection, createServer, type Socket } from "node:net";

export interface Wiretap {
  /** http://127.0.0.1:<port> of the proxy. */
  url: string;
  /** Where connections go from now on (a URL: its host and port). */
  setTarget(url: string): void;
  /** Every byte recorded so far, both directions, in arrival order. */
  bytes(): Buffer;
  close(): Promise<void>;
}

export async function startWiretap(target?: string): Promise<Wiretap> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  let to = target === undefined ? undefined : new URL(target);
  const server = createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    if (to === undefined) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: to.hostname, port: Number(to.port) });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    client.on("data", (d: Buffer) => chunks.push(Buffer.from(d)));
    upstream.on("data", (d: Buffer) => chunks.push(Buffer.from(d)));
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("wiretap: no TCP address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    setTarget(url) {
      to = new URL(url);
    },
    bytes: () => Buffer.concat(chunks),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** The forms a leaked `marker` could take: itself, hex (both cases), base64 and base64url at the three byte alignments. */
export function leakForms(marker: string): string[] {
  const bytes = Buffer.from(marker, "utf8");
  const forms = [marker, bytes.toString("hex"), bytes.toString("hex").toUpperCase()];
  for (const pad of [0, 1, 2]) {
    const b64 = Buffer.concat([Buffer.alloc(pad), bytes]).toString("base64");
    // Drop the characters that depend on the padding bytes or on what follows the marker.
    const start = pad === 0 ? 0 : pad === 1 ? 2 : 3;
    const form = b64.slice(start, start + Math.floor((bytes.length * 4) / 3) - 4);
    forms.push(form, form.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return [...new Set(forms)];
}

/** The leak forms of `marker` found in `haystack` (empty when none). */
export function leaksIn(haystack: string | Buffer, marker: string): string[] {
  const text = typeof haystack === "string" ? haystack : haystack.toString("latin1");
  return leakForms(marker).filter((form) => text.includes(form));
}
