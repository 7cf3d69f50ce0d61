import type { ReactNode } from 'react';

// Table is the shell of the list pages' tables: a heading per column, and a
// last column (each row's link or actions) whose heading only screen readers
// announce; the page renders the rows.
export function Table({ columns, last, children }: { columns: string[]; last: string; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table className="table">
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" key={c}>
                {c}
              </th>
            ))}
            <th scope="col">
              <span className="sr-only">{last}</span>
            </th>
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
