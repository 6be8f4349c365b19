import { Type } from '@sinclair/typebox';
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { notRestricted } from '../storage/restricted-profiles.js';
import { compileRule, liveProfiles, propertyFilter, type CompileContext } from './compile.js';
import { DurationSchema, durationAgo, PropertyFilterSchema, segmentReferences, tagReferences, type PropertyFilter, type Rule } from './rule.js';
import { validateRule, type KnownNames, type RuleIssue } from './validate.js';

/**
 * How a tag comes to a profile. manual: people add and remove it (one by
 * one, from a segment, from a CSV of ids). rule: a segment-like rule. cases:
 * the first matching case names the value (age group from birthday, region
 * from city, purchase frequency band). top: the most frequent value of an
 * event property (preferred category, channel preference with `$source`).
 */
export type TagDefinition =
  | { kind: 'manual' }
  | { kind: 'rule'; rule: Rule }
  | { kind: 'cases'; cases: Array<{ value: string; rule: Rule }> }
  | { kind: 'top'; event: string; property: string; within?: string; where?: PropertyFilter[] };

const Name = Type.String({ minLength: 1, maxLength: 200 });

export const TagDefinitionSchema = Type.Union(
  [
    Type.Object({ kind: Type.Literal('manual') }, { additionalProperties: false }),
    Type.Object({ kind: Type.Literal('rule'), rule: Type.Ref('SegmentRule') }, { additionalProperties: false }),
    Type.Object(
      { kind: Type.Literal('cases'), cases: Type.Array(Type.Object({ value: Type.String({ minLength: 1, maxLength: 200 }), rule: Type.Ref('SegmentRule') }, { additionalProperties: false }), { minItems: 1, maxItems: 50 }) },
      { additionalProperties: false, description: 'the first case whose rule holds gives the tag its value' },
    ),
    Type.Object(
      {
        kind: Type.Literal('top'),
        event: Name,
        property: Type.String({ minLength: 1, maxLength: 200, description: 'an event property; list.field for a field of each element of a list property (products.category); or $source for the source the events came from' }),
        within: Type.Optional(DurationSchema),
        where: Type.Optional(Type.Array(PropertyFilterSchema, { maxItems: 20 })),
      },
      { additionalProperties: false, description: 'the most frequent value of an event property (ties: the most recent)' },
    ),
  ],
  { description: 'manual, rule, cases or top' },
);

export function tagDefinitionIssues(definition: TagDefinition, known: KnownNames): RuleIssue[] {
  switch (definition.kind) {
    case 'manual':
      return [];
    case 'rule':
      return validateRule(definition.rule, known, 'definition.rule');
    case 'cases': {
      const issues = definition.cases.flatMap((c, i) => validateRule(c.rule, known, `definition.cases[${i}].rule`));
      const seen = new Set<string>();
      definition.cases.forEach((c, i) => {
        if (seen.has(c.value)) issues.push({ path: `definition.cases[${i}].value`, message: `the value ${c.value} is given twice` });
        seen.add(c.value);
      });
      return issues;
    }
    case 'top':
      return validateRule({ event: definition.event, ...(definition.where ? { where: definition.where } : {}) }, known, 'definition');
  }
}

function rulesOf(definition: TagDefinition): Rule[] {
  if (definition.kind === 'rule') return [definition.rule];
  if (definition.kind === 'cases') return definition.cases.map((c) => c.rule);
  return [];
}

export function definitionSegmentReferences(definition: TagDefinition): string[] {
  return rulesOf(definition).flatMap(segmentReferences);
}

export function definitionTagReferences(definition: TagDefinition): string[] {
  return rulesOf(definition).flatMap(tagReferences);
}

/**
 * select (id, value) of the profiles a computed tag applies to, with the value
 * it takes. Manual tags are not computed.
 */
export function tagValuesQuery(definition: Exclude<TagDefinition, { kind: 'manual' }>, ctx: CompileContext): RawBuilder<{ id: string; value: string }> {
  switch (definition.kind) {
    case 'rule':
      return sql`select p.id, '' as value from profiles p where ${liveProfiles(ctx)} and (${compileRule(definition.rule, ctx)})`;
    case 'cases': {
      const conditions = definition.cases.map((c) => ({ value: c.value, test: compileRule(c.rule, ctx) }));
      const choose = sql.join(conditions.map((c) => sql`when ${c.test} then ${c.value}::text`), sql` `);
      const any = sql.join(conditions.map((c) => sql<SqlBool>`(${c.test})`), sql` or `);
      return sql`select p.id, case ${choose} end as value from profiles p where ${liveProfiles(ctx)} and (${any})`;
    }
    case 'top': {
      // `products.category` reads each element of a list property (Segment's orders carry their products so).
      const dot = definition.property.indexOf('.');
      const list = definition.property !== '$source' && dot > 0 ? { array: definition.property.slice(0, dot), field: definition.property.slice(dot + 1) } : null;
      const value =
        definition.property === '$source' ? sql`coalesce(s.name, e.source_id)`
        : list ? sql`(item ->> ${list.field})`
        : sql`(e.properties ->> ${definition.property})`;
      const items = list
        ? sql`cross join lateral jsonb_array_elements(case when jsonb_typeof(e.properties -> ${list.array}) = 'array' then e.properties -> ${list.array} else '[]'::jsonb end) as item`
        : sql``;
      // As liveProfiles: a restricted person carries no computed tag.
      const filters: Array<RawBuilder<SqlBool>> = [sql<SqlBool>`e.workspace_id = ${ctx.workspaceId}`, sql<SqlBool>`e.event = ${definition.event}`, notRestricted(sql`p.id`, ctx.workspaceId)];
      if (ctx.profileIds) filters.push(sql<SqlBool>`e.profile_id = any(${[...ctx.profileIds]}::uuid[])`);
      if (definition.within) filters.push(sql<SqlBool>`e.timestamp >= ${durationAgo(definition.within, ctx.now)}`);
      for (const f of definition.where ?? []) filters.push(propertyFilter(f, ctx.now));
      // The value is computed once in the inner query: a bound parameter repeated in GROUP BY would not count as the same expression.
      return sql`select distinct on (v.profile_id) v.profile_id as id, v.value
        from (
          select e.profile_id, ${value} as value, e.timestamp
          from events e
          join profiles p on p.workspace_id = e.workspace_id and p.id = e.profile_id and p.merged_into is null
          left join sources s on s.workspace_id = e.workspace_id and s.id = e.source_id
          ${items}
          where ${sql.join(filters, sql` and `)}
        ) v
        where v.value is not null and v.value <> ''
        group by v.profile_id, v.value
        order by v.profile_id, count(*) desc, max(v.timestamp) desc, v.value`;
    }
  }
}
