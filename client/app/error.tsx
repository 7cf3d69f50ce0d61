'use client';

// A page that failed while rendering (an error no page turned into a
// message of its own): say so, and offer to try again, instead of Next's
// blank default.
export default function ErrorPage({ reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <section className="card problem" role="alert">
      <h1>Something went wrong</h1>
      <p>This page could not be shown. The platform may be unavailable for a moment; nothing you did is lost.</p>
      <button className="btn" onClick={() => reset()}>
        Try again
      </button>
    </section>
  );
}
