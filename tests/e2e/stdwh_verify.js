// stdwh_verify.js — verify webhook deliveries with the Standard Webhooks reference library
// (npm standardwebhooks, installed by `make` in build/npm). stdin: a JSON array of
// {"secret", "headers", "body"}; stdout: a JSON array, per delivery true or the library's error.
"use strict";
const path = require("path");
const { Webhook } = require(path.join(__dirname, "..", "..", "build", "npm", "node_modules",
    "standardwebhooks"));

let input = "";
process.stdin.on("data", (d) => { input += d; });
process.stdin.on("end", () => {
    const out = JSON.parse(input).map(({ secret, headers, body }) => {
        try {
            new Webhook(secret).verify(body, headers);
            return true;
        } catch (e) {
            return String(e && e.message || e);
        }
    });
    process.stdout.write(JSON.stringify(out));
});
