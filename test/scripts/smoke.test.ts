import { expect } from "chai";
import { network } from "hardhat";

import { deployCore } from "../../scripts/lib/deploy.js";

const connection = await network.getOrCreate();
const coreFixture = () => deployCore(connection);

describe("smoke", function () {
  it("deploys", async function () {
    const { token, registry } = await connection.networkHelpers.loadFixture(coreFixture);
    expect(await token.symbol()).to.equal("AITBC");
    expect(await registry.minStake()).to.equal(10n ** 21n);
  });
});
