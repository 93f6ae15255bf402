import { expect } from "chai";
import { pino } from "pino";

import { RepeatedLog } from "../../../keepers/common/log.js";

const MINUTE_MS = 60_000;

function capturing() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: "info" },
    { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

describe("keepers: RepeatedLog (rate-limited repeated errors)", function () {
  it("logs the first occurrence per key, counts identical ones, and summarises them at most once per period", function () {
    const { logger, lines } = capturing();
    let now = 0;
    const repeated = new RepeatedLog(logger, { summaryMs: 5 * MINUTE_MS, now: () => now });
    // A stalled execution retried every 5 s for 12 minutes: 145 attempts.
    for (let t = 0; t <= 12 * MINUTE_MS; t += 5_000) {
      now = t;
      repeated.log("error", "7:nonce too low", { executionId: "7" }, "execution stalled; will retry");
    }
    expect(lines.map((l) => [l.msg, l.repeated ?? null])).to.deep.equal([
      ["execution stalled; will retry", null],
      ["execution stalled; will retry (repeated)", 60],
      ["execution stalled; will retry (repeated)", 60],
    ]);
    expect(lines[1]).to.include({ level: 50, executionId: "7", sinceMs: 5 * MINUTE_MS });
    // Another key is its own line at once.
    expect(repeated.log("warn", "8:other", {}, "another")).to.equal(true);
    expect(lines).to.have.length(4);
  });

  it("forgets a key quiet for a whole period: its next occurrence is logged in full", function () {
    const { logger, lines } = capturing();
    let now = 0;
    const repeated = new RepeatedLog(logger, { summaryMs: MINUTE_MS, now: () => now });
    expect(repeated.log("warn", "k", {}, "refused")).to.equal(true);
    now = 2 * MINUTE_MS;
    expect(repeated.log("warn", "k", {}, "refused")).to.equal(true);
    expect(lines.map((l) => l.msg)).to.deep.equal(["refused", "refused"]);
  });
});
