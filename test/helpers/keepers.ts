/** Shared by the daemons' tests: a provider agent with its operator, a fixed Workflows domain, a flower. */
import { privateKeyToAccount } from "viem/accounts";
import type { TypedDataDomain } from "viem";

import { quantizeFeatures } from "../../circuits/lib/iris.js";
import type { Json } from "../../keepers/common/values.js";

// Hardhat's default accounts ("test test ... junk"): #4 operator, #5 agent, #6 agent2, #8 outsider (fixture roles).
export const OPERATOR = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65";
export const AGENT_KEY = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba";
export const AGENT2_KEY = "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e";
export const OUTSIDER_KEY = "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97";
export const account = privateKeyToAccount(AGENT_KEY);

/** A Workflows EIP-712 domain for servers that run without a chain. */
export const DOMAIN: TypedDataDomain = {
  name: "AITBC Workflows",
  version: "1",
  chainId: 31337,
  verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
};

export const AITBC = 10n ** 18n;
export const SETOSA_CM = [5.1, 3.5, 1.4, 0.2];
export const setosa = (): Json => ({ kind: "iris-features", features: quantizeFeatures(SETOSA_CM).map(Number) });
