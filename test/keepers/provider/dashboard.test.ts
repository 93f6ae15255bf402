/** The provider's Grafana dashboard (keepers/dashboards/provider.json) against the metrics the node exposes. */
import { readFileSync } from "node:fs";

import { expect } from "chai";

import { providerMetrics } from "../../../keepers/provider/metrics.js";

const DASHBOARD = new URL("../../../keepers/dashboards/provider.json", import.meta.url);

interface Panel {
  type: string;
  title: string;
  datasource?: { uid?: string };
  targets?: { expr: string }[];
}

describe("keepers: the provider's Grafana dashboard (keepers/dashboards/provider.json)", function () {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as { panels: Panel[]; uid: string };
  const queried = new Set(
    dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => t.expr.match(/\baitbc_provider_[a-z_]+/g) ?? [])),
  );

  it("queries every panel through the ${DS_PROMETHEUS} input", function () {
    expect(dashboard.uid).to.equal("aitbc-provider");
    for (const panel of dashboard.panels.filter((p) => p.type !== "row")) {
      expect(panel.datasource?.uid, panel.title).to.equal("${DS_PROMETHEUS}");
      expect(panel.targets, panel.title).to.have.length.above(0);
    }
  });

  it("queries only metrics the node exposes, and every provider metric (earnings included)", async function () {
    const exposed = (await providerMetrics().registry.getMetricsAsJSON()).map((m) => m.name);
    const bases = new Set([...queried].map((n) => n.replace(/_bucket$/, "")));
    for (const name of bases) expect(exposed, `dashboard queries ${name}`).to.include(name);
    for (const name of exposed.filter((n) => n.startsWith("aitbc_provider_")))
      expect(bases.has(name), `dashboard omits ${name}`).to.equal(true);
    expect(bases).to.include("aitbc_provider_credits_claimable_aitbc");
    expect(bases).to.include("aitbc_provider_credits_claimed_aitbc");
  });
});
