// The header row of a data table: column names, numeric ones right-aligned.
export function TableHead({
  columns,
}: {
  columns: readonly (string | readonly [string, 'num'])[];
}) {
  return (
    <thead>
      <tr>
        {columns.map((c) =>
          typeof c === 'string' ? (
            <th scope="col" key={c}>
              {c}
            </th>
          ) : (
            <th scope="col" class="num" key={c[0]}>
              {c[0]}
            </th>
          ),
        )}
      </tr>
    </thead>
  );
}
