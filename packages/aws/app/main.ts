// Entry point of cdk.json's app: see foundation-app.ts for the settings it reads.
import { createFoundationApp } from './foundation-app';

createFoundationApp().synth();
