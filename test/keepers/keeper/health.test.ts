/**
 * ProviderHealth (keepers/keeper/health.ts): which failures mark a provider unavailable, the back-off doubling up to
 * its cap, the order it gives (marked providers last, each group in the catalog's order), the mark's end, and the
 * lines an operator reads.
 */
import { Writable } from "node:stream";

import { expect } from "chai";
import { pino } from "pino";
import type { Hex } from "viem";

import { ProviderHealth } from "../../../keepers/keeper/health.js";

const A: Hex = "0x00000000000000000000000000000000000000aa";
const B: Hex = "0x00000000000000000000000000000000000000bb";
const C: Hex = "0x00000000000000000000000000000000000000cc";

/** A ProviderHealth on a clock the test moves, logging into `lines`. */
function health(baseMs = 10_000, maxMs = 60_000) {
  const clock = { now: 1_000_000 };
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const h = new ProviderHealth({ baseMs, maxMs, logger: pino(sink), now: () => clock.now });
  return { h, clock, lines };
}

const offers = [
  { address: A, endpoint: "http://a" },
  { address: B, endpoint: "http://b" },
  { address: C, endpoint: "http://c" },
];
const order = (h: ProviderHealth) => h.order(offers).map((o) => o.address);

describe("keepers: ProviderHealth", function () {
  it("marks a provider that cannot be reached or times out; refusals, busy and invalid answers are no mark", function () {
    const { h } = health();
    for (const kind of ["refused", "busy", "invalid"] as const) h.failed(A, "http://a", kind, kind);
    expect(h.isDown(A)).to.equal(false);
    h.failed(A, "http://a", "unavailable", "cannot reach http://a (ECONNREFUSED)");
    h.failed(B, "http://b", "timeout", "no answer within 20000 ms");
    expect([h.isDown(A), h.isDown(B), h.isDown(C)]).to.deep.equal([true, true, false]);
  });

  it("orders the marked providers after the others, each group in the given order; the lone provider stays", function () {
    const { h } = health();
    expect(order(h)).to.deep.equal([A, B, C]);
    h.failed(A, "http://a", "unavailable", "down");
    expect(order(h)).to.deep.equal([B, C, A]);
    h.failed(C, "http://c", "timeout", "slow");
    expect(order(h)).to.deep.equal([B, A, C]);
    expect(h.order([{ address: A, endpoint: "http://a" }]).map((o) => o.address)).to.deep.equal([A]);
  });

  it("ends the mark after the back-off (the next attempt probes), doubling it per failure in a row up to the cap", function () {
    const { h, clock, lines } = health(10_000, 35_000);
    const backoffs: number[] = [];
    for (let i = 0; i < 4; i++) {
      h.failed(A, "http://a", "unavailable", "down");
      const last = lines.at(-1) as { backoffMs: number };
      backoffs.push(last.backoffMs);
      clock.now += last.backoffMs - 1;
      expect(h.isDown(A), `failure ${i + 1}: within its back-off`).to.equal(true);
      clock.now += 1;
      expect(h.isDown(A), `failure ${i + 1}: back-off over`).to.equal(false);
      expect(order(h)[0]).to.equal(A);
    }
    expect(backoffs).to.deep.equal([10_000, 20_000, 35_000, 35_000]);
  });

  it("an answer clears the mark and the count: the next failure backs off from the start", function () {
    const { h, lines } = health();
    h.failed(A, "http://a", "unavailable", "down");
    h.failed(A, "http://a", "unavailable", "down");
    h.answered(B); // not marked: nothing happens, nothing is logged
    expect(lines).to.have.length(2);
    h.answered(A);
    expect(h.isDown(A)).to.equal(false);
    h.failed(A, "http://a", "timeout", "slow");
    expect(lines.map((l) => [l.msg, l.backoffMs ?? null, l.failures])).to.deep.equal([
      ["provider marked unavailable", 10_000, 1],
      ["provider marked unavailable", 20_000, 2],
      ["provider available again", null, 2],
      ["provider marked unavailable", 10_000, 1],
    ]);
  });

  it("logs the mark with the provider, its endpoint, the failure and when it is tried again", function () {
    const { h, clock, lines } = health();
    h.failed(A, "http://a", "unavailable", "cannot reach http://a (ECONNREFUSED)");
    expect(lines[0]).to.deep.include({
      level: 40,
      module: "health",
      provider: A,
      endpoint: "http://a",
      kind: "unavailable",
      reason: "cannot reach http://a (ECONNREFUSED)",
      until: new Date(clock.now + 10_000).toISOString(),
    });
  });

  it("matches addresses whatever their case", function () {
    const { h } = health();
    h.failed(A.toUpperCase().replace("0X", "0x") as Hex, "http://a", "unavailable", "down");
    expect(h.isDown(A)).to.equal(true);
  });

  it("clears a mark when the provider is listed at another endpoint (a restarted node), and counts failures per endpoint", function () {
    const { h, lines } = health();
    h.failed(A, "http://a", "unavailable", "cannot reach http://a (ECONNREFUSED)");
    h.failed(A, "http://a", "unavailable", "cannot reach http://a (ECONNREFUSED)");
    expect(h.isDown(A, "http://a")).to.equal(true);
    expect(h.isDown(A, "http://a2")).to.equal(false);
    const moved = [{ address: A, endpoint: "http://a2" }, ...offers.slice(1)];
    expect(h.order(moved).map((o) => o.address)).to.deep.equal([A, B, C]);
    expect(h.isDown(A)).to.equal(false);
    expect(lines.some((l) => l.msg === "provider available again" && l.was === "http://a")).to.equal(true);
    h.failed(A, "http://a2", "unavailable", "cannot reach http://a2 (ECONNREFUSED)");
    expect(lines.filter((l) => l.msg === "provider marked unavailable").map((l) => l.failures)).to.deep.equal([
      1, 2, 1,
    ]);
  });
});
