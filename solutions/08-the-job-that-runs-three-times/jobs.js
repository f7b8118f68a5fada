// The host runs this file in ONE process of its own for the whole deployment (on the first
// machine, however many machines there are), beside the web workers, with the same settings
// (DATABASE_URL, SHOP_DB) and the same clock: the place for scheduled tasks, like the "clock"
// process of many hosts. It serves no requests.
//
// Start a schedule here at module level, or default-export a function that starts it:
//
//   export default function schedule() {
//     ...
//   }
//
// Nothing is scheduled here yet.
