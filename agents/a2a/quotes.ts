/**
 * Quotes over A2A: a signed request for a price ("quote-request": a service by name and a number of units) and a
 * signed answer ("quote": the service's id and model on chain, the price per unit, the total, and until when the
 * provider stands by it). The provider prices from its offer on chain (its listed pricePerUnit, its free capacity:
 * maxCapacity − currentLoad), so a quote never promises what the chain does not show.
 */
import { z } from "zod";

import type { Hex } from "viem";

import type { Json } from "../../protocol/values.js";
import { A2ARefusal } from "./envelope.js";

export const QUOTE_REQUEST = "quote-request";
export const QUOTE = "quote";

const uintString = z.string().regex(/^\d{1,78}$/, "must be a decimal integer string");

export const quoteRequestSchema = z.strictObject({
  /** The offer's serviceName on chain. */
  service: z.string().min(1).max(64),
  units: z.number().int().min(1).max(1_000_000),
});
export type QuoteRequest = z.output<typeof quoteRequestSchema>;

export const quoteSchema = z.strictObject({
  /** The nonce of the request this answers. */
  request: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  provider: uintString,
  service: z.string(),
  serviceId: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  modelHash: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  units: z.number().int().min(1),
  pricePerUnit: uintString,
  total: uintString,
  /** Unix s: the provider stands by the price for work posted before then. */
  validUntil: uintString,
});
export type QuoteBody = z.output<typeof quoteSchema>;

/** A verified quote, in numbers. */
export interface Quote {
  provider: bigint;
  providerKey: Hex;
  service: string;
  serviceId: Hex;
  modelHash: Hex;
  units: bigint;
  pricePerUnit: bigint;
  total: bigint;
  validUntil: bigint;
  /** The signed A2A message that carried it (evidence: anyone can check it against the chain). */
  signed: Json;
}

/** What a provider offers for `service` now (read from its offer on chain), or undefined if it has none. */
export type OfferReader = (
  service: string,
) => Promise<{ serviceId: Hex; modelHash: Hex; pricePerUnit: bigint; freeUnits: bigint } | undefined>;

export function parseBody<S extends z.ZodType>(schema: S, body: Json): z.output<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new A2ARefusal(["body", ...(issue?.path ?? []).map(String)].join("."), issue?.message ?? "invalid");
  }
  return parsed.data;
}

/** The provider's answer to a verified quote request (an A2ARefusal when it cannot quote). */
export async function answerQuote(
  request: QuoteRequest,
  options: { requestNonce: Hex; provider: bigint; offers: OfferReader; now: bigint; validitySeconds: number },
): Promise<QuoteBody> {
  const offer = await options.offers(request.service);
  if (offer === undefined) throw new A2ARefusal("body.service", `no offer "${request.service}" here`);
  if (offer.freeUnits < BigInt(request.units))
    throw new A2ARefusal("body.units", `${request.units} units asked, ${offer.freeUnits} free`);
  return {
    request: options.requestNonce,
    provider: options.provider.toString(),
    service: request.service,
    serviceId: offer.serviceId,
    modelHash: offer.modelHash,
    units: request.units,
    pricePerUnit: offer.pricePerUnit.toString(),
    total: (offer.pricePerUnit * BigInt(request.units)).toString(),
    validUntil: (options.now + BigInt(options.validitySeconds)).toString(),
  };
}
