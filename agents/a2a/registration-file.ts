/**
 * The agent's ERC-8004 registration file, served at `/.well-known/agent-registration.json`: what the agentURI
 * (AgentIdentity.tokenURI, the registry's metadataURI) of an AITBC agent points at. The fields of the standard's
 * registration-v1 file: `type`, `name`, `description`, `image`, `services` (A2A: the agent card; web: the
 * agent's HTTP API; agentWallet: its key as CAIP-10), `x402Support`, `active` (read from the AgentRegistry),
 * `registrations` (agentId and the identity registry as CAIP-10 `eip155:<chain>:<AgentIdentity>`), and
 * `supportedTrust` (reputation: AgentReputation; crypto-economic: stake that can be slashed).
 */
import { A2A_PROTOCOL_VERSION, AGENT_CARD_PATH } from "@a2a-js/sdk";
import type { Hex } from "viem";

export const REGISTRATION_PATH = "/.well-known/agent-registration.json";
export const REGISTRATION_TYPE = "https://eips.ethereum.org/EIPS/eip-8004#registration-v1";

export interface RegistrationFile {
  type: typeof REGISTRATION_TYPE;
  name: string;
  description: string;
  image: string;
  services: { name: string; endpoint: string; version?: string }[];
  x402Support: boolean;
  active: boolean;
  registrations: { agentId: number | string; agentRegistry: string }[];
  supportedTrust: string[];
}

export function registrationFile(options: {
  name: string;
  description: string;
  image: string;
  /** The agent's base URL (its HTTP API). */
  url: string;
  version: string;
  chainId: number;
  /** The AgentIdentity (ERC-8004 identity registry) address. */
  identity: Hex;
  agentId: bigint;
  agentKey: Hex;
  active: boolean;
}): RegistrationFile {
  const caip10 = (address: Hex) => `eip155:${options.chainId}:${address}`;
  return {
    type: REGISTRATION_TYPE,
    name: options.name,
    description: options.description,
    image: options.image,
    services: [
      { name: "A2A", endpoint: `${options.url}/${AGENT_CARD_PATH}`, version: A2A_PROTOCOL_VERSION },
      { name: "web", endpoint: `${options.url}/`, version: options.version },
      { name: "agentWallet", endpoint: caip10(options.agentKey) },
    ],
    x402Support: false,
    active: options.active,
    // A number when it is exact in JSON (every id in practice), else a decimal string.
    registrations: [
      {
        agentId:
          options.agentId <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(options.agentId) : options.agentId.toString(),
        agentRegistry: caip10(options.identity),
      },
    ],
    supportedTrust: ["reputation", "crypto-economic"],
  };
}
