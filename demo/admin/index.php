<?php
// The demo app below /demo/admin/: the config can ask for another scope here (see docs/operations.md).
require __DIR__ . '/../index.php';
