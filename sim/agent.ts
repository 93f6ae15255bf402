/**
 * What the engine needs of every simulated agent, whatever its kind: a name, a kind, the group (its scenario entry)
 * and role, the addresses its P&L is counted over, and its setup on chain. Each kind adds the phases it takes part
 * in (a provider bids and delivers, a client posts and reviews; see engine.ts).
 */
import type { World } from "./world.js";

export type Role = "honest" | "attacker";

export interface SimAgent {
  readonly name: string;
  readonly kind: string;
  readonly group: string;
  readonly role: Role;
  addresses(): string[];
  setup(world: World): Promise<void>;
}
