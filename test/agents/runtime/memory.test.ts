/**
 * The agent's memory (agents/memory.ts) and circuit breakers (agents/breakers.ts), on a real SQLite file: an
 * experience is stored once per piece of evidence and learned from once, in one transaction with the strategy's
 * state; memory is bounded and queryable; the breakers stop bidding while losses, disputes or slashes in the window
 * pass their limits, and let it go on once they age out.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { CircuitBreakers } from "../../../agents/breakers.js";
import { AgentMemory, type Evidence, type ExperienceKind } from "../../../agents/memory.js";

const AITBC = 10n ** 18n;

function log(n: number): Evidence {
  return { chain: { transactionHash: `0x${n.toString(16).padStart(64, "0")}`, logIndex: 0, blockNumber: BigInt(n) } };
}

function experience(kind: ExperienceKind, profit: bigint, at: number, workloadId = 1n) {
  return { kind, workloadId, service: "s", context: {}, action: {}, outcome: kind, figures: {}, profit, at };
}

describe("agents: memory and circuit breakers", function () {
  let file: string;
  let memory: AgentMemory;

  beforeEach(function () {
    file = path.join(mkdtempSync(path.join(tmpdir(), "aitbc-memory-")), "agent.db");
    memory = new AgentMemory(file, { maxExperiences: 5 });
  });

  afterEach(function () {
    memory.close();
  });

  it("stores an experience once per piece of evidence and learns from it once, with the state", function () {
    let learned = 0;
    const learn = () => {
      learned += 1;
      return { strategy: "t", state: { learned } };
    };
    expect(memory.remember(experience("settled", AITBC, 1), log(1), learn)).to.equal(true);
    expect(memory.remember(experience("settled", AITBC, 1), log(1), learn)).to.equal(false);
    expect(learned).to.equal(1);
    expect(memory.strategyState("t")).to.deep.equal({ learned: 1 });
    // Durable: another connection (a restart) reads the same.
    memory.close();
    memory = new AgentMemory(file);
    expect(memory.count()).to.equal(1);
    expect(memory.strategyState("t")).to.deep.equal({ learned: 1 });
    expect(memory.experiences()[0]?.source).to.equal(`chain:0x${"1".padStart(64, "0")}:0`);
  });

  it("rolls the experience back when learning fails (no half-learned outcome)", function () {
    expect(() =>
      memory.remember(experience("settled", AITBC, 1), log(2), () => {
        throw new Error("strategy bug");
      }),
    ).to.throw(/strategy bug/);
    expect(memory.count()).to.equal(0);
    expect(memory.remember(experience("settled", AITBC, 1), log(2))).to.equal(true);
  });

  it("is bounded (the oldest go first) and queryable", function () {
    for (let n = 1; n <= 8; n++)
      memory.remember(experience(n % 2 ? "lost" : "settled", BigInt(n), n * 1000, BigInt(n)), log(n));
    expect(memory.count()).to.equal(5);
    expect(memory.experiences().map((e) => e.workloadId)).to.deep.equal([8n, 7n, 6n, 5n, 4n]);
    expect(memory.experiences({ kind: "settled" }).map((e) => e.workloadId)).to.deep.equal([8n, 6n, 4n]);
    expect(memory.experiences({ since: 7000 }).map((e) => e.workloadId)).to.deep.equal([8n, 7n]);
    expect(memory.experiences({ workloadId: 5n, limit: 1 })).to.have.length(1);
    expect(() => new AgentMemory(":memory:", { maxExperiences: 0 })).to.throw(/maxExperiences/);
  });

  it("takes outcomes only with evidence: a self-check must name what it checked", function () {
    expect(() => memory.remember(experience("settled", 1n, 1), { self: " " })).to.throw(/must name its check/);
    expect(memory.remember(experience("settled", 1n, 1), { self: "output re-run and compared" })).to.equal(true);
  });

  describe("circuit breakers", function () {
    let now = 0;
    const limits = { windowMs: 10_000, maxLoss: 5n * AITBC, maxDisputes: 1, maxSlashes: 0 };

    it("open on losses over the limit in the window, and close once they age out", function () {
      const breakers = new CircuitBreakers(memory, limits, () => now);
      now = 100_000;
      memory.remember(experience("settled", 10n * AITBC, now), log(1)); // gains do not offset losses
      memory.remember(experience("refunded", -3n * AITBC, now), log(2));
      expect(breakers.check()).to.equal(undefined);
      memory.remember(experience("refunded", -3n * AITBC, now + 1), log(3));
      expect(breakers.check()?.breaker).to.equal("losses");
      expect(breakers.check()?.message).to.match(/lost 6000000000000000000 wei/);
      now += 10_002;
      expect(breakers.check()).to.equal(undefined);
    });

    it("open on disputes and slashes over their limits", function () {
      const breakers = new CircuitBreakers(memory, limits, () => now);
      now = 200_000;
      memory.remember(experience("disputed", 0n, now), log(4));
      expect(breakers.check()).to.equal(undefined);
      memory.remember(experience("disputed", 0n, now), log(5));
      expect(breakers.check()?.breaker).to.equal("disputes");
      now += 20_000;
      memory.remember(experience("slashed", -1n, now), log(6));
      expect(breakers.check()?.breaker).to.equal("slashes");
    });
  });
});
