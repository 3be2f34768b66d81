import { index, layout, route, type RouteConfig } from '@react-router/dev/routes';

export default [
  route('login', 'routes/login.tsx'),
  route('logout', 'routes/logout.tsx'),
  route('preferences', 'routes/preferences.tsx'),
  route('runs/:id/log-ticket', 'routes/run-log-ticket.tsx'),
  route('runs/:id/history.json', 'routes/run-history.tsx'),
  route('runs/:id/timeline.json', 'routes/run-timeline.tsx'),
  route('runs/:id/inputs.json', 'routes/run-inputs.tsx'),
  route('containers/:name/follow-ticket', 'routes/container-follow-ticket.tsx'),
  route('infra/topology.dot', 'routes/infra-topology-dot.tsx'),
  route('ai/chat', 'routes/ai-chat-stream.tsx'),
  route('ai/diagnose', 'routes/ai-diagnose.tsx'),
  route('ai/feedback', 'routes/ai-feedback.tsx'),
  layout('routes/shell.tsx', [
    index('routes/home.tsx'),
    route('dashboard', 'routes/dashboard.tsx'),
    route('runbooks', 'routes/runbooks.tsx'),
    route('runbooks/:name', 'routes/runbook.tsx'),
    route('runs', 'routes/runs.tsx'),
    route('runs/:id', 'routes/run.tsx'),
    route('approvals', 'routes/approvals.tsx'),
    route('containers', 'routes/containers.tsx'),
    route('infra', 'routes/infra.tsx'),
    route('ai', 'routes/ai.tsx'),
    route('settings', 'routes/settings.tsx'),
  ]),
] satisfies RouteConfig;
