<?php
// latchkey demo app. It runs only when the latchkey authorizer let the request through, and shows
// who called: the authorizer's Variable-LATCHKEY_* answers arrive as $_SERVER['LATCHKEY_*'].
// If LATCHKEY_DEMO_LOG names a file, every execution appends the request's X-Request-Id to it (the
// end-to-end tests use it to prove that a refused request never ran the app).
$log = getenv('LATCHKEY_DEMO_LOG');
if ($log !== false && $log !== '') {
    file_put_contents($log, ($_SERVER['HTTP_X_REQUEST_ID'] ?? '-') . "\n", FILE_APPEND | LOCK_EX);
}
$out = [];
foreach (['LATCHKEY_KEY_ID', 'LATCHKEY_ACCOUNT_ID', 'LATCHKEY_SCOPES', 'LATCHKEY_ENV',
          'LATCHKEY_KEY_LABEL', 'LATCHKEY_REQUEST_ID', 'LATCHKEY_RATELIMIT_LIMIT',
          'LATCHKEY_RATELIMIT_REMAINING', 'LATCHKEY_RATELIMIT_RESET'] as $name) {
    $out[$name] = $_SERVER[$name] ?? null;
}
$out['method'] = $_SERVER['REQUEST_METHOD'] ?? null;
$out['uri'] = $_SERVER['REQUEST_URI'] ?? null;
header('Content-Type: application/json; charset=utf-8');
echo json_encode($out, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), "\n";
