'use client';

// The last resort, when the root layout itself failed: it replaces the whole
// document, so it brings its own <html> and <body> and no styles of ours.
export default function GlobalError({ reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: 'system-ui, sans-serif', margin: '2rem' }}>
        <main role="alert">
          <h1>Unavailable</h1>
          <p>The platform is unavailable right now. Try again in a moment.</p>
          <button onClick={() => reset()}>Try again</button>
        </main>
      </body>
    </html>
  );
}
