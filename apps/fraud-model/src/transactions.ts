import { createRng, type Rng } from './random.js';

/** Payment methods seen in training. Production later sees `buy_now_pay_later` too. */
export const PAYMENT_METHODS = ['card', 'bank_transfer', 'wallet'] as const;
export const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'BR', 'IN', 'NG'] as const;
export const MERCHANT_CATEGORIES = [
  'grocery',
  'fashion',
  'travel',
  'electronics',
  'gaming',
  'gift_cards',
] as const;

/** One card transaction as the model service receives it. */
export type Transaction = {
  amount: number;
  user_age: number;
  account_age_days: number;
  payment_method: string;
  country: string;
  hour_of_day: number;
  n_prior_purchases: number;
  merchant_category: string;
};

/** A transaction with its ground-truth label (known to the demo, never to the model). */
export interface LabeledTransaction {
  transaction: Transaction;
  isFraud: boolean;
}

const PAYMENT_RISK: Record<string, number> = {
  card: 0,
  bank_transfer: -0.6,
  wallet: 1.1,
  buy_now_pay_later: 1.6,
};
const COUNTRY_RISK: Record<string, number> = { US: 0, GB: 0, DE: -0.2, FR: 0, BR: 0.7, IN: 0.4, NG: 1.2 };
const MERCHANT_RISK: Record<string, number> = {
  grocery: -0.8,
  fashion: 0,
  travel: 0.4,
  electronics: 0.9,
  gaming: 0.6,
  gift_cards: 1.6,
};

/**
 * The documented ground-truth rule. A transaction is fraudulent when its risk score is
 * positive; the generator then flips 3% of labels at random (label noise), so no model can
 * be perfect. The score is linear in the features the model sees, which is why a logistic
 * regression on one-hot + standardised features learns it well:
 *
 *   risk = -0.2 + 0.006·amount − 0.004·account_age_days − 0.05·n_prior_purchases
 *          − 0.025·(user_age − 40) − 0.06·(hour_of_day − 12)
 *          + payment_risk + country_risk + merchant_risk
 */
export function riskScore(t: Transaction): number {
  return (
    -0.2 +
    0.006 * t.amount -
    0.004 * t.account_age_days -
    0.05 * t.n_prior_purchases -
    0.025 * (t.user_age - 40) -
    0.06 * (t.hour_of_day - 12) +
    (PAYMENT_RISK[t.payment_method] ?? 0) +
    (COUNTRY_RISK[t.country] ?? 0) +
    (MERCHANT_RISK[t.merchant_category] ?? 0)
  );
}

/** Share of labels flipped at random after applying the rule. */
export const LABEL_NOISE = 0.03;

/** Which population to draw from: training/staging traffic, or production's shifted traffic. */
export type Population = 'training' | 'production';

/** Options of {@link generateTransactions}. */
export interface GenerateOptions {
  /** @default 1 */
  seed?: number;
  /** @default 'training' */
  population?: Population;
}

function draw(rng: Rng, population: Population): Transaction {
  const production = population === 'production';
  const payment = production
    ? rng.pick(['card', 'bank_transfer', 'wallet', 'buy_now_pay_later'], [0.45, 0.15, 0.2, 0.2])
    : rng.pick(PAYMENT_METHODS, [0.6, 0.2, 0.2]);
  return {
    // Log-normal amounts; production's shoppers spend more.
    amount: Math.round(Math.exp((production ? 4.4 : 4.0) + 0.9 * rng.normal()) * 100) / 100,
    user_age: Math.min(90, Math.max(18, Math.round(40 + 13 * rng.normal() - (production ? 6 : 0)))),
    account_age_days: Math.round(-Math.log(1 - rng.next()) * (production ? 250 : 500)),
    payment_method: payment,
    country: rng.pick(COUNTRIES, [0.35, 0.15, 0.12, 0.12, 0.1, 0.1, 0.06]),
    hour_of_day: rng.int(0, 23),
    n_prior_purchases: Math.round(-Math.log(1 - rng.next()) * 12),
    merchant_category: rng.pick(MERCHANT_CATEGORIES, [0.3, 0.2, 0.15, 0.15, 0.1, 0.1]),
  };
}

/** Generates `n` labelled transactions, deterministically from the seed. */
export function generateTransactions(n: number, options: GenerateOptions = {}): LabeledTransaction[] {
  const rng = createRng(options.seed ?? 1);
  const population = options.population ?? 'training';
  const out: LabeledTransaction[] = [];
  for (let i = 0; i < n; i++) {
    const transaction = draw(rng, population);
    let isFraud = riskScore(transaction) > 0;
    if (rng.next() < LABEL_NOISE) isFraud = !isFraud;
    out.push({ transaction, isFraud });
  }
  return out;
}
