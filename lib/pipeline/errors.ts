/** The pipeline could not do what was asked (closed, or a message it cannot find). */
export class PipelineError extends Error {
  override readonly name = 'PipelineError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
