import { createRng, generateTransactions, type Population } from '@prodprobe/fraud-model';

/** One request the demo sends, with the label only the demo knows. */
export interface DemoRequest {
  requestId: string;
  body: Record<string, unknown>;
  isFraud: boolean;
  /** Which planted fault this request carries, if any. */
  fault: 'none' | 'nan_amount' | 'missing_user_age' | 'age_out_of_range';
}

/** Share of production requests carrying each planted input fault. */
export const PRODUCTION_FAULTS = {
  nan_amount: 0.03,
  missing_user_age: 0.03,
  age_out_of_range: 0.02,
} as const;

/**
 * Traffic for one environment. Staging sees the training population, clean. Production sees a
 * shifted population (new payment method `buy_now_pay_later`, bigger amounts, younger users) and
 * the input faults real clients send: "NaN" amounts, a missing `user_age`, ages such as 150.
 */
export function demoTraffic(env: 'staging' | 'production', n: number, seed: number): DemoRequest[] {
  const population: Population = env === 'production' ? 'production' : 'training';
  const rng = createRng(seed ^ 0x5eed);
  return generateTransactions(n, { seed, population }).map((row, i) => {
    const body: Record<string, unknown> = { ...row.transaction };
    let fault: DemoRequest['fault'] = 'none';
    if (env === 'production') {
      const r = rng.next();
      if (r < PRODUCTION_FAULTS.nan_amount) {
        body.amount = 'NaN';
        fault = 'nan_amount';
      } else if (r < PRODUCTION_FAULTS.nan_amount + PRODUCTION_FAULTS.missing_user_age) {
        delete body.user_age;
        fault = 'missing_user_age';
      } else if (
        r <
        PRODUCTION_FAULTS.nan_amount + PRODUCTION_FAULTS.missing_user_age + PRODUCTION_FAULTS.age_out_of_range
      ) {
        body.user_age = 150;
        fault = 'age_out_of_range';
      }
    }
    return { requestId: `${env}-${seed}-${i}`, body, isFraud: row.isFraud, fault };
  });
}
