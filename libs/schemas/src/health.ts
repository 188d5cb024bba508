import { Type, type Static } from 'typebox'
import { RealtimeStats } from './realtime.js'

export const HealthStatus = Type.Union([Type.Literal('ok'), Type.Literal('degraded')])
export type HealthStatus = Static<typeof HealthStatus>

export const CheckStatus = Type.Union([Type.Literal('up'), Type.Literal('down')])
export type CheckStatus = Static<typeof CheckStatus>

/** The state of one dependency (NATS, Chroma, the model backend, an upstream service). */
export const DependencyHealth = Type.Object(
  {
    status: CheckStatus,
    latencyMs: Type.Optional(Type.Number({ minimum: 0 })),
    message: Type.Optional(Type.String({ description: 'Why it is down, or what it is (e.g. which model backend)' })),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown()))
  },
  { title: 'DependencyHealth' }
)
export type DependencyHealth = Static<typeof DependencyHealth>

/** `GET /health` of every service: liveness (it answers) plus readiness of each dependency. */
export const ServiceHealth = Type.Object(
  {
    status: HealthStatus,
    service: Type.String({ examples: ['openai-service'] }),
    version: Type.String(),
    instance: Type.String({ description: 'This process: host name and pid' }),
    uptimeSeconds: Type.Number({ minimum: 0 }),
    dependencies: Type.Record(Type.String(), DependencyHealth)
  },
  { title: 'ServiceHealth' }
)
export type ServiceHealth = Static<typeof ServiceHealth>

/** The names the funnel's aggregated health always reports. */
export const StackParts = ['funnel', 'openai', 'chroma', 'nats', 'chromadb'] as const
export type StackPart = (typeof StackParts)[number]

/** `GET :5000/health`: the whole stack as the edge sees it; 200 when every part is up, 503 naming what is down. */
export const StackHealth = Type.Object(
  {
    status: HealthStatus,
    down: Type.Array(Type.String(), { description: 'The parts that are down' }),
    services: Type.Object({
      funnel: DependencyHealth,
      openai: DependencyHealth,
      chroma: DependencyHealth,
      nats: DependencyHealth,
      chromadb: DependencyHealth
    }),
    realtime: Type.Optional(RealtimeStats)
  },
  { title: 'StackHealth' }
)
export type StackHealth = Static<typeof StackHealth>
