// What a model call costs, from list prices in US dollars per million tokens.
// The table is small on purpose: an unknown model (a local server, a new name)
// costs 0 rather than a guess, and the token counts are recorded either way.

interface TokenPrice {
  inputPerMillion: number;
  outputPerMillion: number;
}

const PRICES_BY_MODEL: Record<string, TokenPrice> = {
  'gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10 },
  'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  'gpt-4.1': { inputPerMillion: 2, outputPerMillion: 8 },
  'gpt-4.1-mini': { inputPerMillion: 0.4, outputPerMillion: 1.6 },
  'gpt-4.1-nano': { inputPerMillion: 0.1, outputPerMillion: 0.4 },
  'o4-mini': { inputPerMillion: 1.1, outputPerMillion: 4.4 },
  'text-embedding-3-small': { inputPerMillion: 0.02, outputPerMillion: 0 },
  'text-embedding-3-large': { inputPerMillion: 0.13, outputPerMillion: 0 },
};

// Longest names first, so "gpt-4o-mini-2024-07-18" is priced as gpt-4o-mini, not gpt-4o.
const KNOWN_MODELS = Object.keys(PRICES_BY_MODEL).sort((a, b) => b.length - a.length);

/** The price of a model by its exact name or a dated snapshot of it ("gpt-4o-2024-08-06"). */
export function priceOfModel(model: string): TokenPrice | undefined {
  const name = model.toLowerCase();
  const known = KNOWN_MODELS.find((candidate) => name === candidate || name.startsWith(`${candidate}-`));
  return known ? PRICES_BY_MODEL[known] : undefined;
}

/** Cost in US dollars of one call; 0 for a model missing from the table. */
export function costOfCall(model: string, promptTokens: number, completionTokens: number): number {
  const price = priceOfModel(model);
  if (!price) return 0;
  return (promptTokens * price.inputPerMillion + completionTokens * price.outputPerMillion) / 1_000_000;
}
