/** The protocol's action types, as in contracts/libraries/ActionTypes.sol (bit i of a mask = type i). */
export const ACTION_TYPES = {
  transfer: 0,
  stake: 1,
  "update-profile": 2,
  "list-service": 3,
  "post-workload": 4,
  bid: 5,
  "submit-result": 6,
  "resolve-dispute": 7,
  "define-workflow": 8,
  "run-workflow": 9,
  upkeep: 10,
  govern: 11,
} as const;

export type ActionName = keyof typeof ACTION_TYPES;

/** Every one of the 48 action types a mask can hold (ActionTypes.ALL). */
export const ALL_ACTIONS = (1n << 48n) - 1n;

export function actionMask(names: readonly ActionName[]): bigint {
  return names.reduce((mask, name) => mask | (1n << BigInt(ACTION_TYPES[name])), 0n);
}

export function actionName(actionType: number | bigint): string {
  const entry = Object.entries(ACTION_TYPES).find(([, v]) => BigInt(v) === BigInt(actionType));
  return entry ? entry[0] : `action#${actionType}`;
}

/** Names of the known action types in `mask`, or "all" / "none". */
export function describeMask(mask: bigint): string {
  if (mask === ALL_ACTIONS) return "all";
  const names = Object.entries(ACTION_TYPES)
    .filter(([, v]) => (mask >> BigInt(v)) & 1n)
    .map(([k]) => k);
  const unknown = mask & ~Object.values(ACTION_TYPES).reduce((m, v) => m | (1n << BigInt(v)), 0n);
  if (unknown !== 0n) names.push(`0x${unknown.toString(16)}`);
  return names.length === 0 ? "none" : names.join(", ");
}
