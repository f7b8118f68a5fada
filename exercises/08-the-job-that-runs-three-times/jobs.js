// The host runs this file in ONE process of its own, beside the web workers, with the same
// settings (SHOP_DB) and the same clock: the place for scheduled tasks, like the "clock"
// process of many hosts. It serves no requests.
//
// Start a schedule here at module level, or default-export a function that starts it:
//
//   export default function schedule() {
//     ...
//   }
//
// Nothing is scheduled here yet.
