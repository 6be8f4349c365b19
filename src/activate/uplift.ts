/**
 * The statistics of a campaign report, on plain counts: conversion rates of
 * the treatment and control arms, their difference with a significance test
 * and a confidence interval, and the money figures built on them. No I/O;
 * attribution.ts gathers the counts. Definitions: docs/attribution.md.
 */

/** People in one arm and how many of them converted. */
export interface ArmCounts {
  people: number;
  converted: number;
}

/** Treatment against control. Rates and differences are fractions (0.04 is 4 percentage points). */
export interface Uplift {
  /** treatment rate − control rate */
  absolute: number;
  /** absolute / control rate; null when the control rate is 0 */
  relative: number | null;
  /** the pooled two-proportion z statistic; null when both arms are all 0 % or all 100 % */
  z: number | null;
  /** two-sided; 1 when z is null (nothing differs) */
  pValue: number;
  /** 95 % interval for `absolute` (Newcombe's hybrid score interval) */
  ci95: [number, number];
}

/** The standard normal quantile at 0.975. */
export const Z_95 = 1.959963984540054;

/**
 * erfc to a relative error below 1.2e-7 everywhere (Numerical Recipes' erfcc, a Chebyshev fit),
 * so p-values stay meaningful far out in the tail where 1 − Φ(z) would round to 0.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(|Z| ≥ |z|) for a standard normal Z. */
export function twoSidedP(z: number): number {
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
}

/** converted / people; null for an empty arm. */
export function conversionRate(arm: ArmCounts): number | null {
  return arm.people > 0 ? arm.converted / arm.people : null;
}

/**
 * Wilson's score interval for a proportion. Unlike p ± z·√(p(1−p)/n) it is
 * never empty at 0 or n successes and never leaves [0, 1].
 */
export function wilsonInterval(converted: number, people: number, z = Z_95): [number, number] {
  if (people <= 0) return [0, 1];
  const p = converted / people;
  const z2 = z * z;
  const denominator = 1 + z2 / people;
  const centre = (p + z2 / (2 * people)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / people + z2 / (4 * people * people));
  // Rounding can put the bound a hair outside [0, 1] at 0 or n successes.
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/**
 * Newcombe's hybrid score interval (method 10, 1998) for p1 − p2, built from
 * each arm's Wilson interval. Chosen over the Wald interval because campaign
 * arms often have few or no conversions, where Wald collapses to a point.
 */
export function differenceInterval(treatment: ArmCounts, control: ArmCounts, z = Z_95): [number, number] {
  const p1 = treatment.converted / treatment.people;
  const p2 = control.converted / control.people;
  const [l1, u1] = wilsonInterval(treatment.converted, treatment.people, z);
  const [l2, u2] = wilsonInterval(control.converted, control.people, z);
  const d = p1 - p2;
  return [d - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)];
}

/** The pooled two-proportion z-test; both arms must have people. */
export function twoProportionTest(treatment: ArmCounts, control: ArmCounts): { z: number | null; pValue: number } {
  const p1 = treatment.converted / treatment.people;
  const p2 = control.converted / control.people;
  const pooled = (treatment.converted + control.converted) / (treatment.people + control.people);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / treatment.people + 1 / control.people));
  // Pooled rate 0 or 1: both arms identical (all or none converted), so there is no difference to test.
  if (!(se > 0)) return { z: null, pValue: 1 };
  const z = (p1 - p2) / se;
  return { z, pValue: twoSidedP(z) };
}

/**
 * Treatment against control, or null with the reason when it cannot be
 * measured (no control group, or an arm with nobody in it).
 */
export function measureUplift(treatment: ArmCounts, control: ArmCounts | null): { uplift: Uplift | null; notes: string[] } {
  if (control === null || control.people === 0) {
    return { uplift: null, notes: ['uplift: the campaign has no control group, so uplift, incremental conversions and incremental revenue cannot be measured (give it a control percent above 0)'] };
  }
  if (treatment.people === 0) return { uplift: null, notes: ['uplift: nobody has been sent the message yet, so there is no treatment rate to compare with the control group'] };
  const t = treatment.converted / treatment.people;
  const c = control.converted / control.people;
  const notes: string[] = [];
  if (c === 0) notes.push('uplift.relative: nobody in the control group converted, so the relative uplift is undefined (null)');
  const test = twoProportionTest(treatment, control);
  return {
    uplift: { absolute: t - c, relative: c > 0 ? (t - c) / c : null, z: test.z, pValue: test.pValue, ci95: differenceInterval(treatment, control) },
    notes,
  };
}

/** Conversions or revenue the campaign caused: (treatment per person − control per person) × people sent. */
export function incremental(treatmentPerPerson: number, controlPerPerson: number, sent: number): number {
  return (treatmentPerPerson - controlPerPerson) * sent;
}

/** What the campaign cost: the fixed part plus each message sent. */
export function campaignCost(fixedCost: number, costPerMessage: number, sent: number): number {
  return fixedCost + costPerMessage * sent;
}

/** (revenue − cost) / cost; null when nothing was spent (any return on nothing is infinite). */
export function returnOnCost(revenue: number, cost: number): number | null {
  return cost > 0 ? (revenue - cost) / cost : null;
}
