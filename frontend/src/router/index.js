// Routes of the web app. Each area registers its routes here; later parts slot in beside
// them: `/apps/:app/:entity/kanban` (stage flows), `/approvals` (the inbox),
// `/apps/:app/dashboards/:dashboard`, `/market`, `/admin/...`, `/forms/:token` (public).
import { createRouter, createWebHistory } from 'vue-router'
import { loadSession, session } from '../session.js'
import { onUnauthorized } from '../api/client.js'

const Shell = () => import('../layouts/AppShell.vue')

export const routes = [
  { path: '/login', name: 'login', component: () => import('../views/LoginView.vue'), meta: { public: true, title: 'login.title' } },
  { path: '/f/:token', name: 'public-form', component: () => import('../views/PublicForm.vue'), meta: { public: true, bare: true } },
  {
    path: '/',
    component: Shell,
    children: [
      { path: '', name: 'home', component: () => import('../views/HomeView.vue'), meta: { title: 'home.title' } },
      { path: 'designer', name: 'designer', component: () => import('../views/designer/DesignerHome.vue'), meta: { admin: true, title: 'designer.title' } },
      { path: 'designer/:app', name: 'app-designer', component: () => import('../views/designer/AppDesigner.vue'), meta: { admin: true, title: 'designer.title' } },
      { path: 'market', name: 'market', component: () => import('../views/admin/MarketView.vue'), meta: { admin: true, title: 'market.title' } },
      { path: 'admin', name: 'admin', component: () => import('../views/admin/TenantAdmin.vue'), meta: { admin: true, title: 'admin.title' } },
      { path: 'tasks', name: 'my-tasks', component: () => import('../views/MyTasks.vue'), meta: { title: 'sla.title' } },
      { path: 'approvals', name: 'approvals', component: () => import('../views/ApprovalsInbox.vue'), meta: { title: 'inbox.title' } },
      {
        path: 'apps/:app',
        component: () => import('../views/runtime/AppLayout.vue'),
        children: [
          { path: '', name: 'app', component: () => import('../views/runtime/AppIndex.vue') },
          { path: ':entity', name: 'records', component: () => import('../views/runtime/RecordList.vue') },
          { path: 'dashboards/:dashboard', name: 'dashboard', component: () => import('../views/runtime/DashboardView.vue') },
          { path: ':entity/board/:board?', name: 'board', component: () => import('../views/runtime/KanbanBoard.vue') },
          { path: ':entity/new', name: 'record-new', component: () => import('../views/runtime/RecordEdit.vue') },
          { path: ':entity/:id(\\d+)', name: 'record', component: () => import('../views/runtime/RecordPage.vue') },
          { path: ':entity/:id(\\d+)/edit', name: 'record-edit', component: () => import('../views/runtime/RecordEdit.vue') },
        ],
      },
      { path: ':pathMatch(.*)*', name: 'not-found', component: () => import('../views/NotFound.vue') },
    ],
  },
]

export const router = createRouter({ history: createWebHistory(), routes })

router.beforeEach(async (to) => {
  if (to.meta.bare) return true // no login, and no need to know who is there
  if (!session.checked) await loadSession()
  if (to.meta.public) return true
  if (!session.user) return { name: 'login', query: { next: to.fullPath } }
  if (to.meta.admin && !session.user.is_tenant_admin) return { name: 'home' }
  return true
})

onUnauthorized(() => {
  session.user = null
  const current = router.currentRoute.value
  if (!current.meta.public) router.push({ name: 'login', query: { next: current.fullPath } })
})
