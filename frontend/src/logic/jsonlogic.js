// Rules in the browser: json-logic-js, the evaluator the server's Python one is made to agree
// with (see tests/fixtures/jsonlogic_cases.json, run by both sides).
import jsonLogic from 'json-logic-js'

export function evaluate(rule, data) {
  return jsonLogic.apply(rule, data ?? {})
}

export function truthy(value) {
  return jsonLogic.truthy(value)
}

/** Whether `rule` holds for `data`; `fallback` when there is no rule or it cannot run. */
export function holds(rule, data, fallback) {
  if (rule === undefined || rule === null) return fallback
  try {
    return truthy(evaluate(rule, data))
  } catch {
    return fallback
  }
}

/** Field keys a rule reads with `var` (first path segment, `$`-context values left out). */
export function fieldsRead(rule, found = new Set()) {
  if (Array.isArray(rule)) {
    rule.forEach((item) => fieldsRead(item, found))
  } else if (rule && typeof rule === 'object') {
    for (const [op, args] of Object.entries(rule)) {
      if (op === 'var') {
        const name = Array.isArray(args) ? args[0] : args
        if (typeof name === 'string' && name && !name.startsWith('$')) {
          found.add(name.split('.')[0])
        }
      } else {
        fieldsRead(args, found)
      }
    }
  }
  return found
}
