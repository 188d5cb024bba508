import type { Socket } from 'node:net'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { FaultCounter, FaultSyntaxError, faultApplies, parseFault, type Fault } from './faults.js'
import { BadFault } from './errors.js'
import { openaiError } from './openai-error.js'

export const FAULT_HEADER = 'x-sim-fault'

/** What a route does after the injector has looked at a request. */
export type FaultOutcome =
  | { answered: true }
  | { answered: false, cutAfter: number | undefined }

const PASS: FaultOutcome = { answered: false, cutAfter: undefined }

/**
 * Applies the process fault (SIM_FAULT) or the request's `x-sim-fault` header, which wins when present, to
 * one request: waits, answers an error, hangs, or tells a streaming route where to cut. One per process, so
 * `times=N` is counted across every route.
 */
export class FaultInjector {
  private readonly processFault: Fault | undefined
  private readonly counter = new FaultCounter()
  /** Sockets of requests a fault is holding (a hang, or a latency wait): closed when the server stops. */
  private readonly held = new Set<Socket>()

  /** Throws a FaultSyntaxError when SIM_FAULT does not follow the grammar, so a bad setting fails at boot. */
  constructor (processFault: string) {
    this.processFault = parseFault(processFault)
  }

  /** The fault that governs a request: its header when it has one (even blank, which means none), else SIM_FAULT. */
  faultFor (request: FastifyRequest): Fault | undefined {
    const header = request.headers[FAULT_HEADER]
    if (header === undefined) return this.processFault
    try {
      return parseFault(Array.isArray(header) ? header.join(',') : header)
    } catch (err) {
      if (err instanceof FaultSyntaxError) throw new BadFault(err.message)
      throw err
    }
  }

  /**
   * Runs the fault for a request to `model`. When it answers (an error status, or a hang), the route must
   * return without replying; otherwise it answers normally, cutting its stream after `cutAfter` chunks.
   */
  async intercept (request: FastifyRequest, reply: FastifyReply, target: { model: string | undefined, stream: boolean }): Promise<FaultOutcome> {
    const fault = this.faultFor(request)
    if (!fault || !faultApplies(fault, target) || !this.counter.take(fault)) return PASS
    request.log.info({ fault: fault.source, model: target.model }, 'injecting a simulated fault')

    if (fault.latencyMs) {
      const gone = await this.wait(reply, fault.latencyMs)
      if (gone) return { answered: true }
    }
    if (fault.hang) {
      reply.hijack()
      const socket = request.raw.socket
      this.held.add(socket)
      socket.once('close', () => this.held.delete(socket))
      return { answered: true }
    }
    if (fault.status !== undefined) {
      if (fault.retryAfterSeconds !== undefined) reply.header('retry-after', String(fault.retryAfterSeconds))
      reply.code(fault.status).send(openaiError(fault.status, `[simulated] HTTP ${fault.status} injected by the fault '${fault.source}'`))
      return { answered: true }
    }
    return { answered: false, cutAfter: target.stream ? fault.cutAfter : undefined }
  }

  /**
   * Closes the sockets of requests a fault is holding, so that the server can stop: a hung request would keep
   * it waiting for ever, and one in a latency wait would be answered after it and keep its connection open.
   */
  releaseHeld (): void {
    for (const socket of this.held) socket.destroy()
    this.held.clear()
  }

  /** Waits `ms`, or less if the client goes away first; true when it went away. */
  private wait (reply: FastifyReply, ms: number): Promise<boolean> {
    const socket = reply.request.raw.socket
    this.held.add(socket)
    return new Promise((resolve) => {
      const onClose = (): void => { clearTimeout(timer); this.held.delete(socket); resolve(true) }
      const timer = setTimeout(() => { reply.raw.off('close', onClose); this.held.delete(socket); resolve(false) }, ms)
      reply.raw.once('close', onClose)
    })
  }
}
