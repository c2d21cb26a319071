// List views: the ones the app defines (columns, sort, filter) and the ones a person saves
// for themself in this browser. A view is {key, title, columns, sort, filter, saved?}.

function storageKey(app, entity) {
  return `builder.views.${app}.${entity}`
}

/** The sort text of the records API (`-amount,name`) from a view's [{field, desc}]. */
export function sortText(sort) {
  return (sort || []).map((item) => (item.desc ? '-' : '') + item.field).join(',')
}

/** The entity's list views from the definition, as views. */
export function definedViews(entity) {
  return (entity?.views || []).filter((v) => v.type === 'list').map((v) => ({
    key: v.key, title: v.title, columns: v.columns || [], sort: sortText(v.sort), filter: v.filter ?? null, saved: false,
  }))
}

export function savedViews(app, entity, storage = window.localStorage) {
  try {
    const found = JSON.parse(storage.getItem(storageKey(app, entity)) || '[]')
    return Array.isArray(found) ? found.map((v) => ({ ...v, saved: true })) : []
  } catch {
    return []
  }
}

/** Saves (or replaces, by title) a view of the list as it is shown; returns the views. */
export function saveView(app, entity, { title, columns, sort, filter }, storage = window.localStorage) {
  const views = savedViews(app, entity, storage).filter((v) => v.title !== title)
  const key = `mine_${Date.now().toString(36)}`
  views.push({ key, title, columns: [...columns], sort, filter: filter ?? null })
  storage.setItem(storageKey(app, entity), JSON.stringify(views.map(({ saved, ...rest }) => rest)))
  return { key, views: savedViews(app, entity, storage) }
}

export function deleteView(app, entity, key, storage = window.localStorage) {
  const views = savedViews(app, entity, storage).filter((v) => v.key !== key)
  storage.setItem(storageKey(app, entity), JSON.stringify(views.map(({ saved, ...rest }) => rest)))
  return views
}
