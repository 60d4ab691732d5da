// Every module that registers CLI commands is imported here (add yours below).
import './up.js';
